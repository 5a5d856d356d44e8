"""A quote is accepted only for the scope it priced (projects.scoping.scope_fingerprint).

Found by the red team (issue #18's tryout): the code of a modernization could be uploaded again
after its quote was made, and the old quote was then accepted for the new code — an account
manager's $60,000 custom quote for 334 lines became the price of 30,334 lines, and a fixed
five-phase quote made for 30,334 lines was accepted for a 341-line code base (around the
small-code-base rule). Each case here failed on the old code: the acceptance went through.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context
from pytest_django.fixtures import Settings as SettingsWrapper

from api.models import Scope
from projects.models import Project, Quote, Service
from tests.api.conftest import api_client, key_make
from tests.projects.portal import by_testid, card_on_file, new_project, quote_accept_consenting, text_of, url
from tests.world import World

pytestmark = pytest.mark.django_db

LEDGERKIT = Path(__file__).parents[1] / "data" / "legacy_cycle" / "ledgerkit"


@pytest.fixture(autouse=True)
def _storage(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path / "storage"


def _zip(extra_lines: int = 0) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in sorted(LEDGERKIT.rglob("*.py")):
            bundle.write(path, f"ledgerkit/{path.relative_to(LEDGERKIT).as_posix()}")
        if extra_lines:
            body = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(extra_lines // 2))
            bundle.writestr("ledgerkit/generated.py", body)
    buffer.seek(0)
    buffer.name = "code.zip"
    return buffer


def _upload(client: Any, project: Project, archive: io.BytesIO) -> None:
    answer = client.post(url("legacy_submit", project.pk), {"archive": archive, "git_path": ""})
    assert answer.status_code == 302, text_of(answer)[:1000]


def _latest(project: Project) -> Quote:
    with schema_context("alpha"):
        quote = Quote.objects.filter(project=project).order_by("-number").first()
        assert quote is not None
        return quote


def test_a_fixed_quote_is_not_accepted_after_the_code_was_uploaded_again(
    world: World, settings: SettingsWrapper
) -> None:
    settings.HIVE_MODERNIZATION_MIN_LINES = 0  # a fixed schedule for any size: the swap is the point here
    card_on_file(world.customers["alpha"])
    owner = world.client("alpha_owner", on="alpha")
    project = new_project(owner, Service.MODERNIZATION, name="Swap fixed")
    _upload(owner, project, _zip(extra_lines=600))
    assert owner.post(url("quote_create", project.pk)).status_code == 302
    quote = _latest(project)
    assert quote.price_cents and quote.snapshot.get("scope_fingerprint")
    _upload(owner, project, _zip())  # the smaller code base, after the quote

    page = owner.get(url("quote_detail", project.pk, quote.number))
    assert "uploaded again after this quote" in by_testid(page, "scope-changed")
    assert 'data-testid="accept"' not in page.content.decode()
    refused = owner.get(url("quote_accept", project.pk, quote.number), follow=True)
    assert "changed after quote v1 was made" in text_of(refused) and 'name="consent"' not in refused.content.decode()
    key = key_make(world, scope=Scope.WRITE)
    step = api_client(key).get(f"/api/v1/projects/{project.pk}/quotes/{quote.number}/accept/")
    assert step.status_code == 409 and "changed after quote" in step.content.decode()
    assert _latest(project).accepted_at is None

    # A new version prices the code as it is now, and that one is accepted.
    assert owner.post(url("quote_create", project.pk)).status_code == 302
    fresh = _latest(project)
    assert fresh.number == 2 and fresh.price_cents is not None and fresh.price_cents != quote.price_cents
    assert quote_accept_consenting(owner, project, fresh.number).status_code == 302
    assert _latest(project).accepted_at is not None


def test_an_account_managers_quote_is_not_accepted_for_code_uploaded_after_it(world: World) -> None:
    card_on_file(world.customers["alpha"])
    owner = world.client("alpha_owner", on="alpha")
    project = new_project(owner, Service.MODERNIZATION, name="Swap custom")
    _upload(owner, project, _zip())  # below the minimum: a custom quote
    assert owner.post(url("quote_create", project.pk)).status_code == 302
    staff = world.client("staff")
    form = {"customer": world.customers["alpha"].pk, "project_id": project.pk, "title": "ledgerkit port"}
    form |= {"scope": "Port ledgerkit", "service": "modernization", "amount": "60000.00", "deposit_percent": 50}
    assert staff.post("/admin/billing/customquote/add/", form).status_code == 302
    custom = _latest(project)
    assert custom.snapshot["outcome"] == "custom_quote"
    _upload(owner, project, _zip(extra_lines=2000))  # more code, after the manager priced it

    refused = owner.get(url("quote_accept", project.pk, custom.number), follow=True)
    assert "changed after quote" in text_of(refused) and 'name="consent"' not in refused.content.decode()
    assert _latest(project).accepted_at is None
    # The customer is not stuck: a new version asks the manager again.
    assert owner.post(url("quote_create", project.pk)).status_code == 302
    assert _latest(project).snapshot["outcome"] == "custom_migration"


def test_an_mvp_quote_is_not_accepted_after_the_stories_changed(world: World) -> None:
    card_on_file(world.customers["alpha"])
    owner = world.client("alpha_owner", on="alpha")
    project = new_project(owner, Service.MVP, name="Swap stories")
    text = "- As a clerk, I want to list orders\n- As a clerk, I want to add orders\n"
    assert owner.post(url("requirements_submit", project.pk), {"text": text}).status_code == 302
    assert owner.post(url("quote_create", project.pk)).status_code == 302
    quote = _latest(project)
    more = text + "".join(f"- As a clerk, I want to export report {n} with charts\n" for n in range(20))
    assert owner.post(url("requirements_submit", project.pk), {"text": more}).status_code == 302
    refused = owner.get(url("quote_accept", project.pk, quote.number), follow=True)
    assert "changed after quote" in text_of(refused)
    assert _latest(project).accepted_at is None
