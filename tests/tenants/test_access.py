"""The one access path into a portal: members in, staff in and audited, everyone else 404."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tenants import services
from tenants.models import Membership, Role, StaffEntry
from tests.portal_pages import portal_paths
from tests.world import World

pytestmark = pytest.mark.django_db

LOGIN_FLOW = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "favicon",
}
# The person's own account pages (tenants.urls_account) show nothing of the portal's company.
ACCOUNT_PAGES = {
    "account",
    "two_factor_setup",
    "two_factor_verify",
    "recovery_codes_regenerate",
    "two_factor_disable",
    "reauthenticate",
    "email_verification_send",
    "email_verify",
}


def _pattern_names(patterns: list[URLPattern | URLResolver]) -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _pattern_names(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


# The REST API and its schema/docs admit API keys, not the portal's session: their cross-tenant
# checks are tests/api/test_authentication.py (a key of another company gets 401, never data).
API_ROUTES = _pattern_names(get_resolver("api.urls_v1").url_patterns) | _pattern_names(
    get_resolver("api.urls").url_patterns
)


def test_every_portal_page_is_covered_by_the_cross_tenant_check(world: World) -> None:
    names = _pattern_names(get_resolver("hive.urls_tenant").url_patterns) - LOGIN_FLOW - ACCOUNT_PAGES - API_ROUTES
    assert names == set(portal_paths(world, "beta"))


@pytest.mark.parametrize("user", ["alpha_owner", "alpha_member", "alpha_viewer", "outsider"])
def test_a_user_of_another_tenant_gets_404_on_every_page(world: World, user: str) -> None:
    client = world.client(user, on="beta")
    for name, path in portal_paths(world, "beta").items():
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 404, f"{method.upper()} {name} {path} → {response.status_code}"
    assert Membership.objects.filter(customer=world.customers["beta"]).count() == 3
    assert not StaffEntry.objects.exists()


def test_an_anonymous_user_is_sent_to_login(world: World) -> None:
    for path in portal_paths(world, "alpha").values():
        response = world.client(on="alpha").get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("user", ["alpha_owner", "alpha_member", "alpha_viewer"])
def test_members_of_every_role_enter_their_portal(world: World, user: str) -> None:
    response = world.client(user, on="alpha").get("/")
    assert response.status_code == 200
    assert b"Alpha Industries" in response.content


def test_an_unknown_subdomain_is_404(world: World) -> None:
    response = world.client("alpha_owner", on="nosuchcompany").get("/")
    assert response.status_code == 404


def test_staff_enter_any_portal_and_each_entry_is_recorded(world: World) -> None:
    client = world.client("staff", on="beta")

    assert client.get("/").status_code == 200
    assert client.get("/members/").status_code == 200

    entries = list(StaffEntry.objects.all())
    assert [(e.user.email, e.customer.schema_name, e.path) for e in entries] == [("staff@hive.test", "beta", "/")]
    assert b"Staff visit" in client.get("/").content

    admin = world.client("staff").get("/admin/tenants/staffentry/")
    assert admin.status_code == 200
    assert b"staff@hive.test" in admin.content and b"Beta Logistics" in admin.content


def test_a_suspended_portal_shows_a_clear_page_and_keeps_everything(world: World) -> None:
    customer = world.customers["alpha"]
    services.customer_suspend(customer=customer, reason="unpaid invoice")
    try:
        response = world.client("alpha_member", on="alpha").get("/")
        assert response.status_code == 403
        assert b"suspended" in response.content and b"nothing has been deleted" in response.content
        assert Membership.objects.filter(customer=customer).count() == 3
    finally:
        services.customer_reactivate(customer=customer)
    assert world.client("alpha_member", on="alpha").get("/").status_code == 200


def test_viewers_and_members_cannot_manage_the_team(world: World) -> None:
    for user in ("alpha_member", "alpha_viewer"):
        client = world.client(user, on="alpha")
        paths = portal_paths(world, "alpha")
        assert client.post(paths["members"], {"email": "x@y.test", "role": "owner"}).status_code == 403
        assert client.post(paths["member_role"], {"role": "owner"}).status_code == 403
        assert client.post(paths["member_remove"]).status_code == 403
    assert Membership.objects.filter(customer=world.customers["alpha"], role=Role.OWNER).count() == 1
