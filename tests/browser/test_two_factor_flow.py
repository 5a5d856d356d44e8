"""An account manager's first admin visit in Chromium: password, then setting up an
authenticator from the page's QR code / key, the recovery codes shown once, then the admin."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from django_otp.oath import TOTP

from tenants.models import User
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code_for(secret: str) -> str:
    """What an authenticator app shows for the key the page printed."""
    key = base64.b32decode(secret.replace(" ", ""))
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_a_new_account_manager_sets_up_two_factor_before_the_admin_opens(page: Any, site: str, world: World) -> None:
    User.objects.create_user(email="first-manager@hive.test", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto(site + "/admin/")
    page.fill("#id_username", "first-manager@hive.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.wait_for_url(f"{site}/account/two-factor/setup/?next=%2Fadmin%2F")
    assert page.locator("[data-testid=totp-qr] svg").is_visible()
    assert "account managers confirm every login" in page.get_by_test_id("two-factor-required").inner_text()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.fill("#id_code", _code_for(secret))
    page.get_by_role("button", name="Confirm").click()

    codes = page.locator("[data-testid=recovery-codes] li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I saved them — continue").click()
    page.wait_for_url(f"{site}/admin/")
    assert "Site administration" in page.content()
    # The codes are not shown again anywhere.
    page.goto(site + "/account/")
    assert codes[0] not in page.content()
