"""Writes of the scoping flow up to the quote: create a project, analyse requirements into stories,
edit stories, assess legacy code, choose an augmentation engagement. Quotes are
``projects.scoping.quotes``."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agents.legacy import ArchiveError, copy_from_git_path, extract_archive
from projects.models import Assessment, Engagement, Project, Service, Story
from projects.requirements import RequirementsError, estimate_points
from projects.scoping.assessment_limits import AssessmentRefused, assessment_bounded
from projects.scoping.intake_limits import IntakeLimits, ParsedRequirements, requirements_parse
from projects.scoping.scope import Scope, scope_mvp
from projects.scoping.scope_snapshot import (
    features_from_json,
    features_to_json,
    story_of,
)
from projects.storage import project_storage
from tenants.audit import Action, audit_record
from tenants.models import User
from tenants.text import one_line


class ScopingError(Exception):
    """A scoping step refused; the message is for the customer."""


def ensure_scope_open(project: Project) -> None:
    if project.is_locked:
        raise ScopingError("The quote of this project was accepted; its scope can no longer change.")


@transaction.atomic
def project_create(*, name: str, service: Service, user: User) -> Project:
    return Project.objects.create(name=one_line(name), service=service, created_by=user)


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

    The parsing runs in a bounded child process (`projects.scoping.intake_limits`) before any row is
    touched. Raises RequirementsError (with a message for the customer) and keeps the previous
    stories when the input cannot be read, is over a cap, or holds no story.
    """
    ensure_scope_open(project)
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
    ensure_scope_open(story.project)
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
    ensure_scope_open(project)
    last = project.stories.aggregate(last=Max("position"))["last"]
    story = Story(project=project, position=(last or 0) + 1)
    _story_fields(story, data)
    story.save()
    audit_record(action=Action.STORY_ADDED, obj=story, detail={"project_id": project.pk, "project": project.name})
    return story


@transaction.atomic
def story_set_dropped(*, story: Story, dropped: bool) -> Story:
    ensure_scope_open(story.project)
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
    ensure_scope_open(project)
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
            _unwrap_repository(staging / "code")
            source = upload.name or "upload"
        elif git_path.strip():
            root = Path(settings.HIVE_GIT_IMPORT_ROOT)
            copy_from_git_path(git_path, allowed_root=root, dest=staging / "code")
            source = git_path.strip()
        else:
            raise ScopingError("Upload a .zip or .tar.gz of the code, or give the path of a git repository.")
        try:
            result = assessment_bounded(staging / "code")
        except AssessmentRefused as exc:
            raise ScopingError(str(exc)) from exc
        if result["totals"]["code"] == 0:
            raise ScopingError("No source code was found in what you gave us.")
        if result["migrated"]["code"] == 0:
            found = ", ".join(
                f"{g['label']} ({len(g['files'])} file{'s' if len(g['files']) != 1 else ''})"
                for g in result["excluded"]
            )
            raise ScopingError(f"Only {found} were found: there is no code to migrate.")
        shutil.rmtree(target, ignore_errors=True)
        (staging / "code").rename(target)
    except ArchiveError as exc:
        raise ScopingError(str(exc)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with transaction.atomic():
        assessment, _ = Assessment.objects.update_or_create(
            project=project, defaults={"source": source[:300], "result": result, "created_at": timezone.now()}
        )
    return assessment


_REPOSITORY_MARKERS = ("setup.py", "setup.cfg", "pyproject.toml", "requirements.txt", "tests", "test")


def _unwrap_repository(root: Path) -> None:
    """A repository zipped with its folder (GitHub's "Download ZIP": ``name-main/…``) is assessed
    and tested from inside that folder, as a checkout is: its tests import the package from the
    repository root. Only a single folder that is not itself a package and holds a repository's
    files (packaging, requirements or tests) is unwrapped."""
    entries = list(root.iterdir())
    if len(entries) != 1 or entries[0].is_symlink() or not entries[0].is_dir():
        return
    wrapper = entries[0]
    if (wrapper / "__init__.py").exists() or not any((wrapper / name).exists() for name in _REPOSITORY_MARKERS):
        return
    moved = wrapper.rename(root / ".hive-unwrap")
    for child in list(moved.iterdir()):
        child.rename(root / child.name)
    moved.rmdir()


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def engagement_set(*, project: Project, data: dict[str, Any]) -> Engagement:
    ensure_scope_open(project)
    engagement, _ = Engagement.objects.update_or_create(project=project, defaults=data)
    return engagement
