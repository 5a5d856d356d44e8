"""Legacy code analysis: the agents' tool that assesses a code base for modernization.

Scoping (a modernization quote) and the legacy-analysis agent call the same two steps:

1. get the code onto disk safely — :func:`extract_archive` for a ``.zip``/``.tar.gz`` upload,
   :func:`copy_from_git_path` for a repository on the server (``archives``);
2. :func:`assess` it (``assessment``): lines of code per language (``loc``), complexity and
   maintainability (``complexity``), the import graph and hotspots (``dependencies``), technical
   debt (``debt``), COCOMO II effort (``effort``) and the phased migration plan (``plan``). Only
   code is migrated: the code's own tests, packaging, docs and examples (``kinds``) are measured
   and listed, not phased; package ``__init__`` modules that only re-export (``facades``) may move
   before what they import when the strict order leaves no balanced cut.

Everything here is plain Python on files: no ORM, no database, no Django settings.
"""

from agents.legacy.archives import (
    DEFAULT_LIMITS,
    ArchiveError,
    ArchiveLimits,
    ExtractedTree,
    copy_from_git_path,
    extract_archive,
)
from agents.legacy.assessment import Assessment, ModuleReport, SizeClassReport, assess

__all__ = [
    "DEFAULT_LIMITS",
    "ArchiveError",
    "ArchiveLimits",
    "Assessment",
    "ExtractedTree",
    "ModuleReport",
    "SizeClassReport",
    "assess",
    "copy_from_git_path",
    "extract_archive",
]
