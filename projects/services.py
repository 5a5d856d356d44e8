"""Writes of the scoping flow: create a project, analyse requirements into stories, edit stories,
assess legacy code, choose an augmentation engagement, make and accept quote versions."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from agents.legacy import ArchiveError, assess, copy_from_git_path, extract_archive
from projects.documents import MAX_DOCUMENT_BYTES, read_requirements_document
from projects.models import Assessment, Engagement, Project, Quote, Service, Story
from projects.requirements import RequirementsError, analyse_requirements, estimate_points
from projects.scope_snapshot import (
    augmentation_snapshot,
    features_from_json,
    features_to_json,
    modernization_snapshot,
    mvp_snapshot,
    story_of,
)
from projects.scoping import Scope, scope_mvp
from tenants.models import User
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


def _requirements_text(text: str, upload: UploadedFile[bytes] | None) -> tuple[str, str]:
    if upload is not None:
        if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
            raise RequirementsError(
                f"“{upload.name}” is too large ({upload.size:,} bytes); the limit is "
                f"{MAX_DOCUMENT_BYTES // 1_048_576} MB ({MAX_DOCUMENT_BYTES:,} bytes). Upload a smaller file "
                "or paste the requirements as text."
            )
        data = upload.read(MAX_DOCUMENT_BYTES + 1)
        return read_requirements_document(filename=upload.name or "upload", data=data), upload.name or "upload"
    return text, "pasted"


@transaction.atomic
def requirements_submit(*, project: Project, text: str = "", upload: UploadedFile[bytes] | None = None) -> list[Story]:
    """Analyse pasted text or an uploaded document into stories, replacing the previous ones.

    Raises RequirementsError (with a message for the customer) and keeps the previous stories
    when the input cannot be read or holds no story.
    """
    _ensure_open(project)
    source_text, source = _requirements_text(text, upload)
    analysis = analyse_requirements(source_text)
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
        )
        for index, s in enumerate(analysis.stories)
    )
    project.requirements_text = source_text
    project.requirements_source = source[:255]
    project.context_features = features_to_json(analysis.context_features)
    project.status = Project.Status.SCOPING
    project.save(update_fields=["requirements_text", "requirements_source", "context_features", "status"])
    return stories


def current_scope(project: Project, stories: list[Story] | None = None) -> Scope:
    """The scope of the stories as they are now (dropped ones left out)."""
    rows = stories if stories is not None else list(project.stories.all())
    return scope_mvp(
        [story_of(s) for s in rows if not s.dropped], context_features=features_from_json(project.context_features)
    )


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
    _story_fields(story, data)
    story.save()
    return story


@transaction.atomic
def story_add(*, project: Project, data: dict[str, Any]) -> Story:
    _ensure_open(project)
    last = project.stories.aggregate(last=Max("position"))["last"]
    story = Story(project=project, position=(last or 0) + 1)
    _story_fields(story, data)
    story.save()
    return story


@transaction.atomic
def story_set_dropped(*, story: Story, dropped: bool) -> Story:
    _ensure_open(story.project)
    story.dropped = dropped
    story.save(update_fields=["dropped"])
    return story


def assessment_run(*, project: Project, upload: UploadedFile[bytes] | None = None, git_path: str = "") -> Assessment:
    """Bring the legacy code into the project's storage (refusing hostile input) and analyse it."""
    _ensure_open(project)
    target = project_storage(project) / "legacy"
    staging = Path(tempfile.mkdtemp(prefix="legacy-", dir=_ensure_dir(project_storage(project))))
    try:
        if upload is not None:
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


def _snapshot(project: Project) -> dict[str, Any]:
    if project.service == Service.MVP:
        stories = [s for s in project.stories.all() if not s.dropped]
        if not stories:
            raise ScopingError("Add your requirements first: there are no stories to quote.")
        return mvp_snapshot(project, current_scope(project, stories), stories)
    if project.service == Service.MODERNIZATION:
        assessment = Assessment.objects.filter(project=project).first()
        if assessment is None:
            raise ScopingError("Upload the legacy code first: the quote is based on its assessment.")
        return modernization_snapshot(project, assessment.result)
    engagement = Engagement.objects.filter(project=project).first()
    if engagement is None:
        raise ScopingError("Choose the engagement first.")
    return augmentation_snapshot(project, engagement)


@transaction.atomic
def quote_create(*, project: Project) -> Quote:
    """Freeze the current scope as the project's next quote version."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    _ensure_open(project)
    snapshot = _snapshot(project)
    number = (project.quotes.aggregate(last=Max("number"))["last"] or 0) + 1
    quote = Quote.objects.create(
        project=project, number=number, snapshot=snapshot, price_cents=snapshot.get("price_cents")
    )
    custom = snapshot["outcome"] in {"custom_engagement", Engagement.Kind.PROJECT}
    project.status = Project.Status.CUSTOM_REQUESTED if custom else Project.Status.QUOTED
    project.save(update_fields=["status"])
    return quote


@transaction.atomic
def quote_accept(*, quote: Quote, user: User) -> Quote:
    """Accept the latest quote version: recorded who and when; the project awaits payment.

    Accepting starts the first payment, so the person must have confirmed their e-mail address
    (``EmailUnverified``, a PermissionDenied, otherwise)."""
    email_verified_require(user, action="accepting a quote")
    project = Project.objects.select_for_update().get(pk=quote.project_id)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.accepted_at is not None:
        return quote  # a double submit accepts once
    _ensure_open(project)
    latest = project.quotes.aggregate(last=Max("number"))["last"]
    if quote.number != latest:
        raise ScopingError(f"Quote v{quote.number} was replaced by v{latest}; review and accept the newest version.")
    if quote.price_cents is None:
        raise ScopingError("This is a custom engagement: your account manager will send you a quote to accept.")
    quote.accepted_at = timezone.now()
    quote.accepted_by = user
    quote.accepted_by_email = user.email
    quote.save(update_fields=["accepted_at", "accepted_by", "accepted_by_email"])
    project.status = Project.Status.AWAITING_PAYMENT
    project.save(update_fields=["status"])
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    transaction.on_commit(lambda: _charge_acceptance_send(schema, project.pk))
    return quote


def _charge_acceptance_send(schema_name: str, project_id: int) -> None:
    from projects.tasks import CONTROL_QUEUE, charge_acceptance

    charge_acceptance.apply_async(args=[schema_name, project_id], queue=CONTROL_QUEUE)
