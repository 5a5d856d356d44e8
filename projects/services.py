"""Writes of the scoping flow: create a project, analyse requirements into stories, edit stories,
assess legacy code, choose an augmentation engagement, make and accept quote versions."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from agents.legacy import ArchiveError, assess, copy_from_git_path, extract_archive
from billing.catalog import format_usd
from billing.milestones import custom_schedule, schedule_total
from billing.models import CustomQuote
from projects.intake_limits import IntakeLimits, ParsedRequirements, requirements_parse
from projects.models import Assessment, Engagement, Project, Quote, Service, Story
from projects.payment_schedule import (
    PaymentSetupError,
    quote_terms,
    quote_valid_until,
    schedule_authorise,
    schedule_of_scope,
)
from projects.requirements import RequirementsError, estimate_points
from projects.scope_snapshot import (
    augmentation_snapshot,
    features_from_json,
    features_to_json,
    modernization_snapshot,
    mvp_snapshot,
    service_terms,
    story_of,
)
from projects.scoping import Scope, scope_mvp
from tenants.audit import Action, audit_record
from tenants.models import Customer, User
from tenants.verification import email_verified_require


class ScopingError(Exception):
    """A scoping step refused; the message is for the customer."""


def project_storage(project: Project) -> Path:
    """This project's own directory: ``<HIVE_STORAGE_ROOT>/<schema>/projects/<id>/``."""
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    return Path(settings.HIVE_STORAGE_ROOT) / schema / "projects" / str(project.pk)


def _ensure_open(project: Project) -> None:
    if project.is_locked:
        raise ScopingError("The quote of this project was accepted; its scope can no longer change.")


@transaction.atomic
def project_create(*, name: str, service: Service, user: User) -> Project:
    return Project.objects.create(name=name.strip(), service=service, created_by=user)


def _requirements_parse(
    text: str, upload: UploadedFile[bytes] | None, columns: Mapping[str, str] | None = None
) -> tuple[ParsedRequirements, str]:
    limits = IntakeLimits.from_settings()
    if upload is None:
        return requirements_parse(limits=limits, text=text, columns=columns), "pasted"
    name = upload.name or "upload"
    cap = limits.document.max_bytes
    if upload.size is not None and upload.size > cap:
        raise RequirementsError(
            f"“{name}” is too large ({upload.size:,} bytes); the limit is {cap // 1_048_576} MB ({cap:,} bytes). "
            "Upload a smaller file or paste the requirements as text."
        )
    data = upload.read(cap + 1)
    return requirements_parse(limits=limits, filename=name, data=data, columns=columns), name


def requirements_submit(
    *,
    project: Project,
    text: str = "",
    upload: UploadedFile[bytes] | None = None,
    columns: Mapping[str, str] | None = None,
) -> list[Story]:
    """Analyse pasted text or an uploaded document into stories, replacing the previous ones.

    The parsing runs in a bounded child process (`projects.intake_limits`) before any row is
    touched. Raises RequirementsError (with a message for the customer) and keeps the previous
    stories when the input cannot be read, is over a cap, or holds no story.
    """
    _ensure_open(project)
    parsed, source = _requirements_parse(text, upload, columns)
    with transaction.atomic():
        project.stories.all().delete()
        stories = Story.objects.bulk_create(
            Story(
                project=project,
                position=index,
                epic=s.epic,
                title=s.title,
                as_a=s.as_a,
                i_want=s.i_want,
                so_that=s.so_that,
                priority=s.priority.value,
                points=s.points,
                acceptance_criteria=list(s.acceptance_criteria),
                source=s.source[:2000],
            )
            for index, s in enumerate(parsed.analysis.stories)
        )
        project.requirements_text = parsed.text
        project.requirements_source = source[:255]
        project.context_features = features_to_json(parsed.analysis.context_features)
        project.non_functional = [item.to_json() for item in parsed.analysis.non_functional]
        project.status = Project.Status.SCOPING
        project.save(
            update_fields=["requirements_text", "requirements_source", "context_features", "non_functional", "status"]
        )
    return stories


def current_scope(project: Project, stories: list[Story] | None = None) -> Scope:
    """The scope of the stories as they are now (dropped ones left out)."""
    rows = stories if stories is not None else list(project.stories.all())
    return scope_mvp(
        [story_of(s) for s in rows if not s.dropped], context_features=features_from_json(project.context_features)
    )


def _story_snapshot(story: Story) -> dict[str, Any]:
    """The fields an edit may change, for the audit entry's before/after."""
    names = ("epic", "title", "as_a", "i_want", "so_that", "priority", "acceptance_criteria", "points")
    return {name: getattr(story, name) for name in names}


def _story_fields(story: Story, data: dict[str, Any]) -> None:
    for name in ("epic", "title", "as_a", "i_want", "so_that", "priority"):
        if name in data:
            setattr(story, name, str(data[name]).strip())
    if "acceptance_criteria" in data:
        story.acceptance_criteria = [
            line.strip() for line in str(data["acceptance_criteria"]).splitlines() if line.strip()
        ]
    if data.get("points"):
        story.points = int(data["points"])
    else:
        story.points = estimate_points(
            title=story.title, i_want=story.i_want, so_that=story.so_that, acceptance_criteria=story.acceptance_criteria
        )


@transaction.atomic
def story_update(*, story: Story, data: dict[str, Any]) -> Story:
    _ensure_open(story.project)
    # From the database: a ModelForm bound to ``story`` has already written the new values on it.
    before = _story_snapshot(Story.objects.get(pk=story.pk))
    _story_fields(story, data)
    story.save()
    after = _story_snapshot(story)
    changed = {name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]}
    audit_record(action=Action.STORY_EDITED, obj=story, detail={"project_id": story.project_id, "changed": changed})
    return story


@transaction.atomic
def story_add(*, project: Project, data: dict[str, Any]) -> Story:
    _ensure_open(project)
    last = project.stories.aggregate(last=Max("position"))["last"]
    story = Story(project=project, position=(last or 0) + 1)
    _story_fields(story, data)
    story.save()
    audit_record(action=Action.STORY_ADDED, obj=story, detail={"project_id": project.pk, "project": project.name})
    return story


@transaction.atomic
def story_set_dropped(*, story: Story, dropped: bool) -> Story:
    _ensure_open(story.project)
    story.dropped = dropped
    story.save(update_fields=["dropped"])
    audit_record(
        action=Action.STORY_DROPPED if dropped else Action.STORY_ADDED,
        obj=story,
        detail={"project_id": story.project_id, "dropped": dropped, "restored": not dropped},
    )
    return story


def assessment_run(*, project: Project, upload: UploadedFile[bytes] | None = None, git_path: str = "") -> Assessment:
    """Bring the legacy code into the project's storage (refusing hostile input) and analyse it."""
    _ensure_open(project)
    target = project_storage(project) / "legacy"
    staging = Path(tempfile.mkdtemp(prefix="legacy-", dir=_ensure_dir(project_storage(project))))
    try:
        if upload is not None:
            cap = settings.HIVE_LEGACY_UPLOAD_MAX_BYTES
            if upload.size is not None and upload.size > cap:
                # The upload handler stops such a request before it is read; a caller that
                # got here another way still never copies it into the project's storage.
                raise ScopingError(f"The upload is {upload.size:,} bytes; the limit is {cap:,} bytes.")
            archive = staging / "upload"
            with archive.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            extract_archive(archive, staging / "code")
            source = upload.name or "upload"
        elif git_path.strip():
            root = Path(settings.HIVE_GIT_IMPORT_ROOT)
            copy_from_git_path(git_path, allowed_root=root, dest=staging / "code")
            source = git_path.strip()
        else:
            raise ScopingError("Upload a .zip or .tar.gz of the code, or give the path of a git repository.")
        result = assess(staging / "code")
        if result.totals.code == 0:
            raise ScopingError("No source code was found in what you gave us.")
        shutil.rmtree(target, ignore_errors=True)
        (staging / "code").rename(target)
    except ArchiveError as exc:
        raise ScopingError(str(exc)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with transaction.atomic():
        assessment, _ = Assessment.objects.update_or_create(
            project=project, defaults={"source": source[:300], "result": result.to_dict(), "created_at": timezone.now()}
        )
    return assessment


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def engagement_set(*, project: Project, data: dict[str, Any]) -> Engagement:
    _ensure_open(project)
    engagement, _ = Engagement.objects.update_or_create(project=project, defaults=data)
    return engagement


def _scope_snapshot(project: Project) -> dict[str, Any]:
    if project.service == Service.MVP:
        stories = [s for s in project.stories.all() if not s.dropped]
        if not stories:
            raise ScopingError("Add your requirements first: there are no stories to quote.")
        snapshot = mvp_snapshot(project, current_scope(project, stories), stories)
        schedule = schedule_of_scope(service=project.service, price_cents=snapshot["price_cents"])
    elif project.service == Service.MODERNIZATION:
        assessment = Assessment.objects.filter(project=project).first()
        if assessment is None:
            raise ScopingError("Upload the legacy code first: the quote is based on its assessment.")
        schedule = schedule_of_scope(service=project.service, price_cents=None, assessment=assessment.result)
        snapshot = modernization_snapshot(project, assessment.result, price_cents=schedule_total(schedule))
    else:
        engagement = Engagement.objects.filter(project=project).first()
        if engagement is None:
            raise ScopingError("Choose the engagement first.")
        snapshot = augmentation_snapshot(project, engagement)
        schedule = schedule_of_scope(service=project.service, price_cents=None, engagement=engagement)
    if schedule:
        snapshot |= quote_terms(project.service, schedule, today=timezone.localdate())
    return snapshot


@transaction.atomic
def quote_create(*, project: Project) -> Quote:
    """Freeze the current scope as the project's next quote version."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    _ensure_open(project)
    latest = project.quotes.order_by("-number").first()
    if latest is not None and latest.snapshot.get("outcome") == "custom_quote" and latest.accepted_at is None:
        raise ScopingError(
            f"Your account manager's quote v{latest.number} is waiting for you: accept it, or ask them to change it."
        )
    snapshot = _scope_snapshot(project)
    number = (project.quotes.aggregate(last=Max("number"))["last"] or 0) + 1
    quote = Quote.objects.create(
        project=project, number=number, snapshot=snapshot, price_cents=snapshot.get("price_cents")
    )
    custom = snapshot["outcome"] in {"custom_engagement", Engagement.Kind.PROJECT}
    project.status = Project.Status.CUSTOM_REQUESTED if custom else Project.Status.QUOTED
    project.save(update_fields=["status"])
    return quote


@transaction.atomic
def quote_from_custom(*, project: Project, custom: CustomQuote) -> Quote:
    """The account manager's custom quote becomes the project's next quote version, with its
    schedule (deposit on acceptance, the rest on completion), for the owner to accept."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    _ensure_open(project)
    if custom.customer.schema_name != connection.schema_name:  # type: ignore[attr-defined]
        raise ScopingError("This custom quote is for another customer.")
    schedule = custom_schedule(amount_cents=custom.amount_cents, deposit_percent=custom.deposit_percent)
    snapshot: dict[str, Any] = {
        "service": project.service,
        "outcome": "custom_quote",
        "custom_quote_id": custom.pk,
        "title": custom.title,
        "scope_text": custom.scope,
        "price_cents": custom.amount_cents,
        "price": format_usd(custom.amount_cents),
        **service_terms(project.service),
        **quote_terms(project.service, schedule, today=timezone.localdate()),
    }
    if custom.valid_until is not None:
        snapshot["valid_until"] = custom.valid_until.isoformat()
    number = (project.quotes.aggregate(last=Max("number"))["last"] or 0) + 1
    quote = Quote.objects.create(project=project, number=number, snapshot=snapshot, price_cents=custom.amount_cents)
    project.status = Project.Status.QUOTED
    project.save(update_fields=["status"])
    return quote


def quote_acceptable(*, quote: Quote, project: Project) -> None:
    """Raise ScopingError unless ``quote`` is the project's newest, priced, unexpired version."""
    _ensure_open(project)
    latest = project.quotes.aggregate(last=Max("number"))["last"]
    if quote.number != latest:
        raise ScopingError(f"Quote v{quote.number} was replaced by v{latest}; review and accept the newest version.")
    if quote.price_cents is None:
        raise ScopingError("This is a custom engagement: your account manager will send you a quote to accept.")
    valid_until = quote_valid_until(quote)
    if valid_until is not None and timezone.localdate() > valid_until:
        raise ScopingError(f"Quote v{quote.number} expired on {valid_until:%Y-%m-%d}; get a new version to accept.")


@transaction.atomic
def quote_accept(*, quote: Quote, user: User, consent: str) -> Quote:
    """Accept the latest quote version and authorise its payment schedule in one step.

    ``consent`` is the token of the consent step (``payment_schedule.payment_offer``) the customer
    confirmed: it must still name this quote, the amount due now and the default card. Recorded:
    who, when, the amount and the card; the up-front milestones are charged after the commit.

    Accepting starts the first payment, so the person must have confirmed their e-mail address
    (``EmailUnverified``, a PermissionDenied, otherwise)."""
    email_verified_require(user, action="accepting a quote")
    project = Project.objects.select_for_update().get(pk=quote.project_id)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.accepted_at is not None:
        return quote  # a double submit accepts once
    quote_acceptable(quote=quote, project=project)
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    now = timezone.now()
    try:
        schedule_authorise(
            project=project, quote=quote, customer=Customer.objects.get(schema_name=schema), token=consent, now=now
        )
    except PaymentSetupError as exc:
        raise ScopingError(str(exc)) from exc
    custom_id = quote.snapshot.get("custom_quote_id")
    if custom_id:
        CustomQuote.objects.filter(pk=custom_id, accepted_at__isnull=True).update(accepted_at=now)
    quote.accepted_at = now
    quote.accepted_by = user
    quote.accepted_by_email = user.email
    quote.save(
        update_fields=["accepted_at", "accepted_by", "accepted_by_email", "authorised_now_cents", "authorised_card"]
    )
    project.status = Project.Status.AWAITING_PAYMENT
    project.save(update_fields=["status"])
    audit_record(
        action=Action.QUOTE_ACCEPTED,
        user=user,
        obj=quote,
        detail={
            "project_id": project.pk,
            "price_cents": quote.price_cents,
            "authorised_now_cents": quote.authorised_now_cents,
            "authorised_card": quote.authorised_card,
        },
    )
    transaction.on_commit(lambda: payments_charge_send(schema, project.pk))
    return quote


def payments_charge_send(schema_name: str, project_id: int) -> None:
    """Queue the charge of the project's due milestones (Celery; settings route it to ``control``)."""
    from projects.tasks import payments_charge

    payments_charge.delay(schema_name, project_id)
