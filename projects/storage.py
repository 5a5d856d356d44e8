"""Where a project's files live on disk (workspace, uploads, previews, deliverables).

Scoping (uploads, legacy assessments) and delivery (workspaces, previews, bundles) both read it,
so it belongs to neither side.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection

from projects.models import Project


def project_storage(project: Project) -> Path:
    """This project's own directory: ``<HIVE_STORAGE_ROOT>/<schema>/projects/<id>/``."""
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    return Path(settings.HIVE_STORAGE_ROOT) / schema / "projects" / str(project.pk)
