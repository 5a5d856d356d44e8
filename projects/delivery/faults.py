"""Platform faults, and what a customer may read of any text the platform writes down.

A *platform fault* is an exception raised by the platform's own code while it ran a task (the
provider, a tool, the orchestration) — as opposed to a ``JobFailed``, which is the work itself
failing (a red test, a budget stop). A fault is staff business: the run keeps the traceback
(``Run.error``), the event stream says one plain sentence (``FAULT_SENTENCE``) and carries
``data["platform_fault"]`` so that the success app escalates it at once, with the traceback, to
the account manager.

``skipped_words`` says what a step that did nothing leaves open ("skipped — not applicable").

``customer_text`` is the last wall for the rest: every event message goes through it before it is
stored and published (``projects.events.event_append``), so a traceback or a server path that some
step put into a message reaches no page, websocket frame, e-mail or PDF built from the stream. No
maintained library scrubs Python tracebacks and host paths out of free text; the rules are small
and written here: a text with a traceback header or a ``File "…", line N`` frame becomes the
plain sentence, and an absolute path under a host directory the platform knows (its code, its
storage, the interpreter) becomes ``…/<last part>``.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

from django.conf import settings

FAULT_SENTENCE = "The platform hit an internal error on this step; our team has been alerted and is looking into it."

_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+", re.MULTILINE)


def _host_roots() -> list[str]:
    roots = {
        str(settings.BASE_DIR),
        str(Path(settings.HIVE_STORAGE_ROOT)),
        sys.prefix,
        sys.base_prefix,
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["stdlib"],
        "/usr/lib/python3",
        "/usr/local/lib/python3",
        "/tmp",  # noqa: S108 - a prefix to hide in customer text, not a file to write
        "/var",
        "/home",
        "/root",
        "/work",
        "/srv",
        "/opt",
    }
    return sorted((root.rstrip("/") for root in roots if root and root != "/"), key=len, reverse=True)


def _path_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(root) for root in _host_roots())
    # A root alone ("the /home page") is a word, not a path: a segment must follow it.
    return re.compile(rf"(?:{alternatives})(?:/[^\s\"',:;)]+)+")


def _shorten(match: re.Match[str]) -> str:
    last = match.group(0).rstrip("/").rsplit("/", 1)[-1]
    return f"…/{last}" if last else "…"


def looks_like_traceback(text: str) -> bool:
    return bool(_TRACEBACK.search(text))


def customer_text(text: str) -> str:
    """``text`` as a customer may read it: no traceback, no host path."""
    if not text:
        return text
    if looks_like_traceback(text):
        return FAULT_SENTENCE
    return _path_pattern().sub(_shorten, text)


def skipped_words(data: object) -> str:
    """A step that did nothing says so (an outcome's ``data["skipped"]``: ``{"reason",
    "leaves_open"}``): "Skipped — not applicable: <reason>; still open: <what>", else ""."""
    skipped = data.get("skipped") if isinstance(data, dict) else None
    if not isinstance(skipped, dict):
        return ""
    words = f"Skipped — not applicable: {skipped.get('reason') or 'nothing to do'}"
    if skipped.get("leaves_open"):
        words += f"; still open: {skipped['leaves_open']}"
    return words
