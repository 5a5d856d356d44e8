"""The deliverable a customer downloads: the project's repository as a git bundle (every branch
and tag; ``git clone <file>`` gives a working repository) or the files of ``main`` as a zip.

Files are built on request into the project's own storage (``deliverables/``), named after the
revision they hold, so a second download of an unchanged repository reuses the file; a newer
revision's file replaces the older ones.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from agents.workspace import Workspace
from projects.models import Project
from projects.storage import project_storage


class NoDeliverable(Exception):
    """The agents have not created the project's repository yet."""


def project_workspace(project: Project) -> Workspace:
    return Workspace(project_storage(project) / "workspace")


def _target(project: Project, workspace: Workspace, suffix: str) -> Path:
    if not workspace.exists:
        raise NoDeliverable(f"{project.name} has no repository yet.")
    revision = workspace.head()[:12]
    return project_storage(project) / "deliverables" / f"project-{project.pk}-{revision}.{suffix}"


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}")


def _publish(built: Path, target: Path) -> None:
    """Move the finished file into place (a download never sees half a file) and drop older ones."""
    built.replace(target)
    for older in target.parent.glob(f"project-*{target.suffix}"):
        if older != target:
            older.unlink(missing_ok=True)


def deliverable_bundle(project: Project) -> Path:
    workspace = project_workspace(project)
    target = _target(project, workspace, "bundle")
    if not target.exists():
        _publish(workspace.bundle(_partial(target)), target)
    return target


def deliverable_zip(project: Project) -> Path:
    workspace = project_workspace(project)
    target = _target(project, workspace, "zip")
    if not target.exists():
        _publish(workspace.archive_zip(_partial(target)), target)
    return target
