"""Two-factor login: enrolment with a real TOTP app's codes, the login's second step on every
host, recovery codes that work once, and who must use it (staff; a company that requires it)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants import signals
from tenants.models import Customer, StaffEntry, User
from tests.world import PASSWORD, World, host_of

pytestmark = pytest.mark.django_db


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for ``device`` now (or ``steps_ahead`` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def login(client: Client, email: str) -> Any:
    return client.post("/login/", {"username": email, "password": PASSWORD})


def enrol(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    """Set up an authenticator through the pages, as a person does; the codes shown once."""
    page = client.get("/account/two-factor/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/account/two-factor/setup/", {"code": code(device)})
    assert done.status_code == 200, done.content
    codes = re.findall(r"<li><code>(\w+)</code></li>", done.content.decode())
    device.refresh_from_db()
    return device, codes


def test_a_customer_enrols_with_qr_and_secret_and_gets_ten_recovery_codes(world: World) -> None:
    user = world.users["alpha_member"]
    client = world.client("alpha_member", on="alpha")
    enabled: list[object] = []
    signals.two_factor_enabled.connect(lambda sender, **kw: enabled.append(kw["user"]), weak=False, dispatch_uid="t1")

    page = client.get("/account/two-factor/setup/")
    body = page.content.decode()
    assert "<svg" in body and "otpauth://totp/Agent%20Hive%3Aalpha-member%40example.test" in body
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', body)
    assert secret and len(secret.group(1).replace(" ", "")) == 32
    device, codes = enrol(client, user)
    signals.two_factor_enabled.disconnect(dispatch_uid="t1")

    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert enabled == [user]
    # The codes are shown once: the account page only counts them.
    account = client.get("/account/").content.decode()
    assert "Recovery codes left: 10" in account and codes[0] not in account


def test_a_wrong_code_does_not_switch_two_factor_on(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    client.get("/account/two-factor/setup/")
    device = TOTPDevice.objects.get(user=world.users["alpha_member"])
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"

    response = client.post("/account/two-factor/setup/", {"code": wrong})

    assert response.status_code == 400
    assert "did not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True, user=world.users["alpha_member"]).exists()


def test_after_enrolment_a_password_login_needs_the_second_step_on_every_host(world: World) -> None:
    user = world.users["alpha_member"]
    device, _ = enrol(world.client("alpha_member", on="alpha"), user)

    client = Client(HTTP_HOST="hive.localhost")
    landed = login(client, user.email)
    assert landed.status_code == 302 and landed["Location"] == f"http://{host_of('alpha')}/"

    # Password alone: the portal sends the person to the second step, and shows no data.
    portal = client.get("/", HTTP_HOST=host_of("alpha"))
    assert portal.status_code == 302
    assert portal["Location"] == "/account/two-factor/verify/?next=%2F"
    assert client.get("/members/", HTTP_HOST=host_of("alpha")).status_code == 302
    wrong = client.post("/account/two-factor/verify/", {"code": "000000", "next": "/"}, HTTP_HOST=host_of("alpha"))
    assert wrong.status_code == 400
    # django-otp holds a device back after a wrong code (1 s, doubling with each further one).
    time.sleep(1.1)

    ok = client.post("/account/two-factor/verify/", {"code": code(device, 1), "next": "/"}, HTTP_HOST=host_of("alpha"))
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get("/", HTTP_HOST=host_of("alpha")).status_code == 200
    # Confirmed on the portal host, the same session is confirmed on the main site too.
    assert client.get("/account/", HTTP_HOST="hive.localhost").status_code == 200


def test_a_code_is_not_accepted_twice(world: World) -> None:
    user = world.users["alpha_member"]
    device, _ = enrol(world.client("alpha_member", on="alpha"), user)
    first, second = Client(HTTP_HOST=host_of("alpha")), Client(HTTP_HOST=host_of("alpha"))
    login(first, user.email)
    login(second, user.email)
    token = code(device, 1)

    assert first.post("/account/two-factor/verify/", {"code": token}).status_code == 302
    assert second.post("/account/two-factor/verify/", {"code": token}).status_code == 400


def test_a_recovery_code_works_once(world: World) -> None:
    user = world.users["alpha_member"]
    _, codes = enrol(world.client("alpha_member", on="alpha"), user)
    used: list[int] = []
    signals.recovery_code_used.connect(lambda sender, **kw: used.append(kw["remaining"]), weak=False, dispatch_uid="t2")

    first = Client(HTTP_HOST=host_of("alpha"))
    login(first, user.email)
    ok = first.post("/account/two-factor/verify/", {"code": codes[3].upper()[:4] + "-" + codes[3][4:], "next": "/"})
    again = Client(HTTP_HOST=host_of("alpha"))
    login(again, user.email)
    refused = again.post("/account/two-factor/verify/", {"code": codes[3], "next": "/"})
    signals.recovery_code_used.disconnect(dispatch_uid="t2")

    assert ok.status_code == 302
    assert first.get("/").status_code == 200
    assert refused.status_code == 400
    assert again.get("/").status_code == 302
    assert used == [9]
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_staff_without_an_authenticator_are_sent_to_set_one_up_before_the_admin(world: World) -> None:
    staff = User.objects.create_user(email="new-manager@hive.test", password=PASSWORD, is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="hive.localhost")
    assert client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD}).status_code == 302

    admin = client.get("/admin/tenants/customer/")
    assert admin.status_code == 302
    assert admin["Location"].startswith("/account/two-factor/setup/?next=")
    setup = client.get(admin["Location"])
    assert b"account managers confirm every login" in setup.content

    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert client.post("/account/two-factor/setup/", {"code": code(device)}).status_code == 200
    assert client.get("/admin/tenants/customer/").status_code == 200


def test_staff_entering_a_portal_confirm_the_second_factor_first_and_nothing_is_recorded_before(world: World) -> None:
    staff = world.users["staff"]
    device = TOTPDevice.objects.get(user=staff, confirmed=True)
    client = Client(HTTP_HOST=host_of("beta"))
    login(client, staff.email)

    portal = client.get("/")
    assert portal.status_code == 302 and portal["Location"].startswith("/account/two-factor/verify/")
    assert not StaffEntry.objects.exists()

    assert client.post("/account/two-factor/verify/", {"code": code(device, 1), "next": "/"}).status_code == 302
    assert client.get("/").status_code == 200
    assert StaffEntry.objects.filter(user=staff).count() == 1


def test_staff_cannot_switch_two_factor_off(world: World) -> None:
    client = world.client("staff")
    response = client.post("/account/two-factor/disable/", follow=True)

    assert "cannot be switched off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=world.users["staff"], confirmed=True).exists()


def test_an_owner_requires_two_factor_and_members_without_it_are_sent_to_enrol(world: World) -> None:
    owner = world.users["alpha_owner"]
    owner_client = world.client("alpha_owner", on="alpha")
    refused = owner_client.post("/members/two-factor/", {"required": "on"}, follow=True)
    assert "for yourself first" in refused.content.decode()
    assert not Customer.objects.get(schema_name="alpha").require_two_factor

    enrol(owner_client, owner)
    assert owner_client.post("/members/two-factor/", {"required": "on"}).status_code == 302
    assert Customer.objects.get(schema_name="alpha").require_two_factor

    member = world.client("alpha_member", on="alpha")
    page = member.get("/")
    assert page.status_code == 302
    assert page["Location"] == "/account/two-factor/setup/?next=%2F"
    assert b"requires two-factor login" in member.get(page["Location"]).content
    # Beta does not require it: the same kind of member there is not asked.
    assert world.client("beta_member", on="beta").get("/").status_code == 200

    enrol(member, world.users["alpha_member"])
    assert member.get("/").status_code == 200
    # And a member of a company that requires it cannot switch it off again.
    off = member.post("/account/two-factor/disable/", follow=True)
    assert "cannot be switched off" in off.content.decode()


def test_members_of_a_company_that_requires_it_cannot_skip_it_on_another_host(world: World) -> None:
    Customer.objects.filter(schema_name="alpha").update(require_two_factor=True)
    member = world.client("alpha_member", on="alpha")

    assert member.get("/").status_code == 302
    assert member.get("/members/").status_code == 302
    assert member.get("/billing/").status_code == 302


def test_an_outsider_is_not_told_that_a_company_requires_two_factor(world: World) -> None:
    Customer.objects.filter(schema_name="alpha").update(require_two_factor=True)

    assert world.client("outsider", on="alpha").get("/").status_code == 404
    assert world.client("beta_owner", on="alpha").post("/members/two-factor/", {"required": ""}).status_code == 404


def test_a_customer_who_chose_two_factor_may_switch_it_off(world: World) -> None:
    user = world.users["beta_viewer"]
    client = world.client("beta_viewer", on="beta")
    device, _ = enrol(client, user)

    off = client.post("/account/two-factor/disable/")

    assert off.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_new_recovery_codes_replace_the_old_ones(world: World) -> None:
    user = world.users["beta_viewer"]
    client = world.client("beta_viewer", on="beta")
    _, old = enrol(client, user)

    page = client.post("/account/two-factor/recovery-codes/")
    new = re.findall(r"<li><code>(\w+)</code></li>", page.content.decode())

    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(new)


def test_staff_may_remove_a_lost_device_in_the_admin_but_never_read_its_secret(world: World) -> None:
    device = TOTPDevice.objects.create(user=world.users["beta_owner"], name="app", confirmed=True)
    admin = world.client("staff")

    page = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")

    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    deleted = admin.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_an_htmx_request_of_a_half_logged_in_session_sends_the_whole_page_to_the_second_step(world: World) -> None:
    staff = world.users["staff"]
    client = Client(HTTP_HOST=host_of("alpha"))
    login(client, staff.email)

    response = client.get("/members/", HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/account/two-factor/verify/?next=%2Fmembers%2F"


def test_the_password_alone_cannot_make_recovery_codes_or_switch_two_factor_off(world: World) -> None:
    """Red-team finding: /account/ was exempt from the second step, so a password-only session
    could mint recovery codes (then pass the second step with one) or switch two-factor off."""
    user = world.users["alpha_member"]
    device, old = enrol(world.client("alpha_member", on="alpha"), user)
    client = Client(HTTP_HOST="hive.localhost")
    login(client, user.email)

    for path in ("/account/two-factor/recovery-codes/", "/account/two-factor/disable/", "/account/reauthenticate/"):
        answer = client.post(path, {"password": PASSWORD}, HTTP_HOST=host_of("alpha"))
        assert answer.status_code == 302 and answer["Location"].startswith("/account/two-factor/verify/"), path
    again = client.get("/account/two-factor/setup/", HTTP_HOST=host_of("alpha"))
    assert again.status_code == 302 and again["Location"].startswith("/account/two-factor/verify/")

    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(old)
