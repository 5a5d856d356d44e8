"""A code base too small for the modernization's per-phase pricing (projects.scoping.migration_minimum):
through the real intake path, the assessment and quote pages say so in one paragraph, the fixed
schedule cannot be accepted (portal, API, a quote frozen before the rule), the account manager is
asked once, and their custom quote can be accepted; a code base above the minimum keeps its schedule.

The small code base is h11 from the venv's site-packages (1,230 code lines, as in the tryout of
issue #18); the large one is pytest's ``_pytest`` package (about 25,100 lines)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import _pytest
import h11
import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_tenants.utils import schema_context
from pytest_django.fixtures import Settings as SettingsWrapper

from agents.legacy.effort import estimate_effort
from api.models import Scope
from billing.milestones import MIGRATION_FLOOR_CENTS, agent_month_cents
from billing.models import CustomQuote
from projects.models import Assessment, Project, Quote, Service
from projects.scoping import quotes
from projects.scoping.intake import ScopingError
from projects.scoping.migration_minimum import below_minimum
from projects.scoping.payment_schedule import quote_terms, schedule_of_scope
from projects.scoping.scope_snapshot import modernization_snapshot
from tenants.models import Customer, User
from tests.api.conftest import api_client, key_make
from tests.projects.portal import by_testid, card_on_file, new_project, quote_accept_consenting, text_of, url
from tests.world import World

pytestmark = pytest.mark.django_db

SMALL = Path(h11.__file__).parent
LARGE = Path(_pytest.__file__).parent
PARAGRAPH = "is smaller than this service's per-phase pricing is made for"


@pytest.fixture(autouse=True)
def storage(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.HIVE_STORAGE_ROOT = tmp_path / "storage"
    return tmp_path / "storage"


def _zip_of(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(directory.rglob("*.py")):
            bundle.write(path, f"{directory.name}/{path.relative_to(directory).as_posix()}")
    return buffer.getvalue()


def _assessed(world: World, directory: Path, name: str) -> tuple[Project, dict[str, Any]]:
    """A modernization project whose member uploaded ``directory`` through the portal's form."""
    member = world.client("alpha_member", on="alpha")
    project = new_project(member, Service.MODERNIZATION, name=name)
    archive = io.BytesIO(_zip_of(directory))
    archive.name = f"{directory.name}.zip"
    response = member.post(url("legacy_submit", project.pk), {"archive": archive, "git_path": ""})
    assert response.status_code == 302, text_of(response)[:2000]
    with schema_context("alpha"):
        result: dict[str, Any] = Assessment.objects.get(project=project).result
    return project, result


def _latest(project: Project) -> Quote:
    with schema_context("alpha"):
        return Quote.objects.filter(project=project).order_by("-number").first()  # type: ignore[return-value]


def _status(project: Project) -> str:
    with schema_context("alpha"):
        return Project.objects.get(pk=project.pk).status


def test_the_default_minimum_is_where_the_phase_floor_buys_the_effort_of_rebuilding_the_code() -> None:
    """The reasoning of the module docstring, recomputed from the catalog and the effort model."""
    minimum = settings.HIVE_MODERNIZATION_MIN_LINES
    assert MIGRATION_FLOOR_CENTS == 250_000_000 and agent_month_cents() == 2_500_000
    floor_buys_months = MIGRATION_FLOOR_CENTS / agent_month_cents()
    assert estimate_effort(minimum).person_months >= floor_buys_months
    assert estimate_effort(minimum - 1_000).person_months < floor_buys_months
    assert minimum % 5_000 == 0  # a round number a customer can read


@pytest.mark.parametrize("value", [None, "30000", True, -1, 1.5e6, 24_999, [30_000]])
def test_a_size_that_is_not_a_count_above_the_minimum_is_below_it(value: object) -> None:
    below = below_minimum(value)
    assert below is not None and below.min_lines == 25_000
    assert "No fixed-price migration is offered" in below.refusal
    assert below_minimum(25_000) is None


def test_a_small_code_base_is_told_plainly_and_refused_the_fixed_schedule_until_the_custom_quote(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    project, result = _assessed(world, SMALL, "h11 rewrite")
    lines = result["totals"]["code"]
    assert isinstance(lines, int) and 1_000 < lines < 1_500
    member, owner = world.client("alpha_member", on="alpha"), world.client("alpha_owner", on="alpha")
    card_on_file(world.customers["alpha"])

    page = member.get(url("project_detail", project.pk))
    notice = by_testid(page, "small-codebase")
    assert f"Your code base ({lines:,} lines) {PARAGRAPH}" in notice
    assert "5 phases at the $500,000 floor = $2,500,000" in notice
    assert f"about ${round(2_500_000 / lines):,} per line of your code" in notice
    assert "your account manager prepares a custom quote" in notice
    # The plan's phases carry no fixed price either: their cell says the custom quote prices them.
    assert 'data-testid="phase-price-custom"' in page.content.decode() and "$502,000" not in text_of(page)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the request is mailed after the commit
        assert member.post(url("quote_create", project.pk)).status_code == 302
    quote = _latest(project)
    assert quote.price_cents is None and quote.snapshot["outcome"] == "custom_migration"
    assert "schedule" not in quote.snapshot and _status(project) == Project.Status.CUSTOM_REQUESTED
    page = owner.get(url("quote_detail", project.pk, quote.number))
    assert by_testid(page, "small-codebase") == notice
    assert by_testid(page, "quote-price") == "Custom quote"
    assert 'data-testid="accept"' not in page.content.decode() and "$7.50 per line" not in text_of(page)
    requests = [m for m in mail.outbox if "[Custom quote needed]" in m.subject]
    assert len(requests) == 1 and requests[0].to == ["staff@hive.test"]  # alpha has no account manager
    assert f"customer={world.customers['alpha'].pk}&project_id={project.pk}" in requests[0].body

    refused = owner.get(url("quote_accept", project.pk, quote.number), follow=True)
    assert "No fixed-price migration is offered" in text_of(refused)
    assert 'name="consent"' not in refused.content.decode()
    key = key_make(world, scope=Scope.WRITE)
    accept = f"/api/v1/projects/{project.pk}/quotes/{quote.number}/accept/"
    step = api_client(key).get(accept)
    assert step.status_code == 409 and "No fixed-price migration is offered" in step.content.decode()
    posted = api_client(key).post(accept, {"consent": "x" * 32, "authorise": True}, content_type="application/json")
    assert posted.status_code == 409 and "No fixed-price migration" in posted.content.decode()
    assert _latest(project).accepted_at is None

    with django_capture_on_commit_callbacks(execute=True):  # a new version: the manager was asked already
        assert member.post(url("quote_create", project.pk)).status_code == 302
    assert len([m for m in mail.outbox if "[Custom quote needed]" in m.subject]) == 1

    staff = world.client("staff")
    form = {"customer": world.customers["alpha"].pk, "project_id": project.pk, "title": "h11 port"}
    form |= {"scope": "Port h11 to Python 3.12", "service": "modernization", "amount": "90000.00"}
    response = staff.post("/admin/billing/customquote/add/", form | {"deposit_percent": 40})
    assert response.status_code == 302, text_of(response)[:2000]
    custom = _latest(project)
    assert custom.snapshot["outcome"] == "custom_quote" and custom.price_cents == 9_000_000
    page = owner.get(url("quote_detail", project.pk, custom.number))
    assert (
        'data-testid="small-codebase"' not in page.content.decode() and 'data-testid="accept"' in page.content.decode()
    )

    assert 'data-testid="small-codebase"' not in member.get(url("project_detail", project.pk)).content.decode()

    assert quote_accept_consenting(owner, project, custom.number).status_code == 302
    assert _latest(project).accepted_at is not None and _status(project) == Project.Status.AWAITING_PAYMENT
    assert CustomQuote.objects.get(project_id=project.pk).accepted_at is not None


def test_a_fixed_schedule_frozen_before_the_rule_is_refused_by_the_service(world: World) -> None:
    project, result = _assessed(world, SMALL, "old quote")
    with schema_context("alpha"):
        project = Project.objects.get(pk=project.pk)
        schedule = schedule_of_scope(service=project.service, price_cents=None, assessment=result)
        snapshot = modernization_snapshot(project, result, price_cents=sum(r.milestone.amount_cents for r in schedule))
        snapshot |= quote_terms(project.service, schedule, today=timezone.localdate())
        old = Quote.objects.create(project=project, number=1, snapshot=snapshot, price_cents=snapshot["price_cents"])
        with pytest.raises(
            ScopingError,
            match=f"No fixed-price migration is offered for a code base of {result['totals']['code']:,} lines",
        ):
            quotes.quote_acceptable(quote=old, project=project)
        del old.snapshot["code_loc"]  # a snapshot that does not say its size is judged by the assessment
        with pytest.raises(ScopingError, match="No fixed-price migration"):
            quotes.quote_acceptable(quote=old, project=project)
    page = world.client("alpha_owner", on="alpha").get(url("quote_detail", project.pk, 1))
    assert PARAGRAPH in by_testid(page, "small-codebase") and 'data-testid="accept"' not in page.content.decode()


def test_a_code_base_above_the_minimum_keeps_its_phase_schedule(world: World) -> None:
    project, result = _assessed(world, LARGE, "pytest rewrite")
    lines = result["totals"]["code"]
    assert isinstance(lines, int) and lines >= settings.HIVE_MODERNIZATION_MIN_LINES
    member, owner = world.client("alpha_member", on="alpha"), world.client("alpha_owner", on="alpha")
    assert 'data-testid="small-codebase"' not in member.get(url("project_detail", project.pk)).content.decode()

    assert member.post(url("quote_create", project.pk)).status_code == 302

    quote = _latest(project)
    keys = [row["key"] for row in quote.snapshot["schedule"]]
    assert keys == ["assessment", "phase-1", "phase-2", "phase-3", "phase-4", "phase-5"]
    page = owner.get(url("quote_detail", project.pk, quote.number))
    assert (
        'data-testid="small-codebase"' not in page.content.decode() and 'data-testid="accept"' in page.content.decode()
    )
    card_on_file(world.customers["alpha"])
    assert quote_accept_consenting(owner, project, quote.number).status_code == 302
    assert _status(project) == Project.Status.AWAITING_PAYMENT


def test_the_request_goes_to_the_customers_account_manager_only(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    manager = User.objects.create_user(email="am@hive.test", password="x" * 20, is_staff=True)
    Customer.objects.filter(pk=world.customers["alpha"].pk).update(account_manager=manager)
    project, _ = _assessed(world, SMALL, 'h11 <b>"port"</b>')

    with django_capture_on_commit_callbacks(execute=True), schema_context("alpha"):
        quotes.quote_create(project=project)

    [request] = [m for m in mail.outbox if "[Custom quote needed]" in m.subject]
    assert request.to == ["am@hive.test"]
    assert 'h11 <b>"port"</b>' in request.subject  # plain text, as typed
    assert isinstance(request, EmailMultiAlternatives)
    html = str(request.alternatives[0][0])
    assert "&lt;b&gt;" in html and "<b>" not in html
