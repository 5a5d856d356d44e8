"""A person signs up a new company in Chromium — confirming the address from the mailed link —
and lands logged in on its portal; logins hand over to the portal host, with two-factor too."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import Customer, Membership, Role
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_company_signs_up_and_lands_logged_in_on_its_portal(page: Any, site: str, world: World) -> None:
    slug = f"br{uuid.uuid4().hex[:8]}"
    page.goto(site + "/")
    page.get_by_test_id("start").click()
    page.fill("#id_company_name", "Browser Robotics")
    page.fill("#id_subdomain", slug)
    page.fill("#id_email", f"founder@{slug}.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Create portal").click()
    page.get_by_test_id("signup-sent").wait_for()
    assert not Customer.objects.filter(schema_name=slug).exists()

    (message,) = [m for m in mail.outbox if m.to == [f"founder@{slug}.test"]]
    link = re.search(r"http://hive\.localhost(:\d+)?(/signup/confirm/\S+/)", str(message.body))
    assert link, message.body
    page.goto(site + link.group(2))
    page.get_by_role("button", name="Open my portal").click()

    page.wait_for_url(f"http://{slug}.hive.localhost:*/")
    assert page.get_by_test_id("portal-title").inner_text() == "Browser Robotics"
    assert f"founder@{slug}.test" in page.get_by_test_id("who").inner_text()
    customer = Customer.objects.get(schema_name=slug)
    assert Membership.objects.get(customer=customer).role == Role.OWNER

    # The team page is reachable too: the login really holds on the portal host.
    page.goto(f"http://{slug}.hive.localhost:{site.rsplit(':', 1)[1]}/members/")
    assert page.get_by_test_id(f"member-founder@{slug}.test").is_visible()


def test_a_taken_subdomain_is_refused_in_the_page(page: Any, site: str, world: World) -> None:
    page.goto(site + "/signup/")
    page.fill("#id_company_name", "Copycat")
    page.fill("#id_subdomain", "alpha")
    page.fill("#id_email", "copy@cat.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Create portal").click()
    page.wait_for_selector("text=already taken")
    assert page.url.endswith("/signup/")


def test_a_member_logs_in_on_the_main_site_and_lands_on_the_portal(page: Any, site: str, world: World) -> None:
    page.goto(site + "/login/")
    page.fill("#id_username", "beta-viewer@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://beta.hive.localhost:*/")
    assert page.get_by_test_id("portal-title").inner_text() == "Beta Logistics"


def test_an_outsider_logged_in_gets_not_found_on_a_portal(page: Any, site: str, world: World) -> None:
    page.goto(site + "/login/")
    page.fill("#id_username", "outsider@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    response = page.goto(f"http://alpha.hive.localhost:{site.rsplit(':', 1)[1]}/")
    assert response.status == 404
    assert "Alpha Industries" not in page.content()


def test_a_member_with_two_factor_logs_in_on_the_main_site_and_confirms_on_the_portal(
    page: Any, site: str, world: World
) -> None:
    device = TOTPDevice.objects.create(user=world.users["beta_member"], name="app", confirmed=True)
    page.goto(site + "/login/")
    page.fill("#id_username", "beta-member@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The password login is handed to the portal host, which asks for the second factor first.
    page.wait_for_url("http://beta.hive.localhost:*/account/two-factor/verify/?next=%2F")
    assert "Beta Logistics" not in page.get_by_role("main").inner_text()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    page.fill("#id_code", f"{totp.token():06d}")
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_url("http://beta.hive.localhost:*/")
    assert page.get_by_test_id("portal-title").inner_text() == "Beta Logistics"
    # Confirmed once, the login holds on the main site's pages too (one session, parent domain).
    page.goto(site + "/account/")
    assert "On: each login is confirmed" in page.get_by_test_id("account-two-factor").inner_text()
