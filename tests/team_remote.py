"""A customer's git repository for the augmentation tests: a bare remote whose ``main`` has
``PER_WEEK`` commits a week for the last ``WEEKS`` weeks, made with the test's own git."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

WEEKS, PER_WEEK = 8, 2


def plain_git(*args: str, cwd: Path, when: str = "") -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_AUTHOR_NAME": "Team Dev",
        "GIT_AUTHOR_EMAIL": "dev@team.example",
        "GIT_COMMITTER_NAME": "Team Dev",
        "GIT_COMMITTER_EMAIL": "dev@team.example",
    }
    if when:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def team_remote(tmp_path: Path, *, weeks: int = WEEKS) -> Path:
    """A bare repository whose main branch has PER_WEEK commits a week for WEEKS weeks."""
    work, bare = tmp_path / "team-work", tmp_path / "team.git"
    work.mkdir(parents=True)
    plain_git("init", "-q", "-b", "main", cwd=work)
    start = timezone.now() - timedelta(weeks=weeks)
    for number in range(weeks * PER_WEEK):
        when = start + timedelta(days=number * 7 / PER_WEEK)
        (work / "teamlib").mkdir(exist_ok=True)
        (work / "teamlib" / "__init__.py").write_text(f"VERSION = {number}\n")
        (work / "README.md").write_text(f"# Team library\n\nChange {number}.\n")
        plain_git("add", "-A", cwd=work)
        plain_git("commit", "-q", "-m", f"Change {number}", cwd=work, when=when.isoformat())
    plain_git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    plain_git("push", "-q", str(bare), "main:main", cwd=work)
    return bare
