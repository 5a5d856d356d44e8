"""Names are one line of plain text (red-team finding: a company named
``Evil\\r\\nBcc: victim@evil.example`` was accepted at signup, and the text e-mail showed a fake
header line). Each form refuses control characters with a clear message and keeps nothing."""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.test import Client, TestCase
from django_tenants.utils import schema_context

from api.models import ApiKey, Scope
from projects.models import Project
from tenants.models import SignupRequest
from tenants.text import MESSAGE, one_line
from tests.api.conftest import api_client, key_make
from tests.projects.portal import url
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db

HOSTILE = [
    "Evil\r\nBcc: victim@evil.example",
    "Evil\nX-Header: 1",
    "Tab\there",
    "Nul\x00",
    "Line\u2028separator",
    "Right-to-left \u202eexe.pdf",
    "Bell\x07",
]


def _shows_refusal(response: object) -> bool:
    return MESSAGE in html.unescape(response.content.decode())  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", HOSTILE)
def test_signup_refuses_a_company_name_with_control_characters(world: World, name: str) -> None:
    data = {"company_name": name, "subdomain": "gamma", "email": "boss@gamma.test", "password": PASSWORD}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = world.client().post("/signup/", data)
    assert response.status_code in (200, 400)  # the form again, with its error
    if "\x00" not in name:  # Django's own null-character validator answers that one
        assert _shows_refusal(response)
    assert mail.outbox == [] and not SignupRequest.objects.exists()
    assert 'value="boss@gamma.test"' in response.content.decode()  # the other fields are kept


def test_a_clean_company_name_still_signs_up_and_its_mail_has_no_extra_lines(world: World) -> None:
    data = {"company_name": "Gamma  Foods", "subdomain": "gamma", "email": "boss@gamma.test", "password": PASSWORD}
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert world.client().post("/signup/", data).status_code == 200  # "check your inbox"
    (message,) = mail.outbox
    assert "\n" not in message.subject and "Gamma Foods" in message.subject
    assert SignupRequest.objects.get().company_name == "Gamma Foods"


@pytest.mark.parametrize("name", HOSTILE)
def test_a_new_project_name_with_control_characters_is_refused(world: World, name: str) -> None:
    member = world.client("alpha_member", on="alpha")
    with schema_context("alpha"):
        before = Project.objects.count()
    response = member.post(url("project_new"), {"name": name, "service": "mvp"})
    assert response.status_code in (200, 400)  # the form again, with its error
    if "\x00" not in name:
        assert _shows_refusal(response)
    with schema_context("alpha"):
        assert Project.objects.count() == before


@pytest.mark.parametrize("name", HOSTILE)
def test_the_api_refuses_such_a_project_name_and_such_a_key_name(world: World, name: str) -> None:
    key = key_make(world, scope=Scope.WRITE)
    with schema_context("alpha"):
        projects = Project.objects.count()
    data = {"name": name, "requirements_text": "As a user I want to log in so that I see my data."}
    response = api_client(key).post("/api/v1/projects/", data, content_type="application/json")
    assert response.status_code == 400, response.content
    if "\x00" not in name:
        assert response.json()["name"] == [MESSAGE]
    owner = world.client("alpha_owner", on="alpha")
    with schema_context("alpha"):
        keys = ApiKey.objects.count()
    refused = owner.post(url("api_keys"), {"name": name, "scope": "read", "expires_in_days": "30"})
    assert (refused.status_code == 400 and _shows_refusal(refused)) or "\x00" in name
    with schema_context("alpha"):
        assert ApiKey.objects.count() == keys and Project.objects.count() == projects


def test_one_line_collapses_what_is_already_stored() -> None:
    assert one_line("Evil\r\nBcc: victim@evil.example") == "Evil Bcc: victim@evil.example"
    assert one_line("  a\t\u2028b \u202ec\x00 ") == "a b c"


def test_a_name_of_ordinary_unicode_is_kept(world: World, client: Client) -> None:
    member = world.client("alpha_member", on="alpha")
    response = member.post(url("project_new"), {"name": "Café Zürich — 東京 👩‍💻", "service": "mvp"})
    assert response.status_code == 302
    with schema_context("alpha"):
        assert Project.objects.filter(name="Café Zürich — 東京 👩‍💻").count() == 1


def test_the_billing_contact_is_one_line_per_field(world: World) -> None:
    from billing.forms import BillingContactForm

    data = {
        "billing_name": "Alpha\r\nBcc: victim@evil.example",
        "billing_email": "billing@alpha.test",
        "address_line1": "1 Main St\nX-Injected: 1",
        "city": "Springfield",
        "country": "US",
    }
    form = BillingContactForm(data)
    assert not form.is_valid()
    assert form.errors["billing_name"] == [MESSAGE] and form.errors["address_line1"] == [MESSAGE]
    assert BillingContactForm({**data, "billing_name": "Alpha", "address_line1": "1 Main St"}).is_valid()
