"""Platform faults, and what a customer may read of any text the platform writes down.

A *platform fault* is an exception raised by the platform's own code while it ran a task (the
provider, a tool, the orchestration) — as opposed to a ``JobFailed``, which is the work itself
failing (a red test, a budget stop). A fault is staff business: the run keeps the traceback
(``Run.error``), the event stream says one plain sentence (``FAULT_SENTENCE``) and carries
``data["platform_fault"]`` so that the success app escalates it at once, with the traceback, to
the account manager.

``skipped_words`` says what a step that did nothing leaves open ("skipped — not applicable").

``customer_text`` is the one sanitiser of everything a customer reads that the platform or its
agents wrote (event messages, the task log, run errors, blocked reasons, reports). It is the last
wall for the rest: every event message goes through it before it is
stored and published (``projects.events.event_append``), so a traceback or a server path that some
step put into a message reaches no page, websocket frame, e-mail or PDF built from the stream. No
maintained library scrubs Python tracebacks and host paths out of free text; the rules are small
and written here: a text with a traceback header or a ``File "…", line N`` frame becomes the
plain sentence; credentials (in URLs, database addresses, ``NAME_KEY=…``/``TOKEN=``/``PASSWORD=``
assignments, authorization headers, private keys, provider token shapes such as ``sk-…``,
``ghp_…``, ``xox…``) become ``[redacted]``; a path under a host directory (its code, its storage,
the interpreter, the system's top directories), a ``file://`` URL, a Windows path or a relative
path into the storage becomes ``…/<last part>``; a loopback, private or reserved IPv4 address and
``localhost`` become ``[internal address]``.
"""

from __future__ import annotations

import ipaddress
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
        *(f"/{top}" for top in _SYSTEM_DIRS),
    }
    return sorted((root.rstrip("/") for root in roots if root and root != "/"), key=len, reverse=True)


# Top directories of a Unix host: a path under one of them is the platform's, never the customer's.
_SYSTEM_DIRS = [
    "tmp",
    "app",
    "bin",
    "boot",
    "data",
    "dev",
    "etc",
    "home",
    "lib",
    "lib64",
    "media",
    "mnt",
    "opt",
    "proc",
    "root",
    "run",
    "sbin",
    "srv",
    "sys",
    "usr",
    "var",
    "work",
]
_SEGMENT = r"[^/\s\"'`,:;()<>\[\]]+"
_WINDOWS_PATH = re.compile(r"(?<![\w/])(?:[A-Za-z]:|\\\\[\w.$-]+)((?:\\[^\\\s\"'`,;:()<>|?*]+)+)\\?")
_FILE_URL = re.compile(rf"\bfile://(?:{_SEGMENT})?((?:/{_SEGMENT})*)/?", re.IGNORECASE)
_STORAGE_PATH = re.compile(rf"(?<![\w/.~-])(?:{_SEGMENT}/)*(?:var/storage|tenant_[\w-]+)(?:/{_SEGMENT})+")
# Secrets: a credential in a URL, a whole database address, NAME_KEY=… assignments, bearer
# headers, private key blocks, and the token shapes of the providers the platform talks to.
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^\s/@\"'<>]+@", re.IGNORECASE)
_DSN = re.compile(
    r"\b(?:postgres(?:ql)?|mysql|mariadb|redis|rediss|amqps?|mongodb(?:\+srv)?|sqlite|mssql)(?:\+\w+)?://\S+",
    re.IGNORECASE,
)
_SECRET_NAME = r"[A-Za-z0-9_.-]*(?:key|token|secret|passw(?:or)?d|pwd|credentials?|auth)[A-Za-z0-9_.-]*"  # noqa: S105  (a pattern of names, not a password)
_VALUE = r"(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&\"']+)"
_ASSIGNMENT = re.compile(rf"(?<![\w-])((?:{_SECRET_NAME}|[\"']{_SECRET_NAME}[\"'])\s*=\s*){_VALUE}", re.IGNORECASE)
# "name: value" is prose as often as not ("passwd: denied"): only a quoted (JSON, YAML) or an
# upper-case environment-style name, e.g. ``"api_key": "…"``, ``DB_PASSWORD: …``.
_COLON_ASSIGNMENT = re.compile(
    rf"((?:[\"'](?i:{_SECRET_NAME})[\"']|\b[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIALS?|AUTH)"
    rf"[A-Z0-9_]*)\s*:\s*){_VALUE}"
)
_AUTHORIZATION = re.compile(r"\b(Authorization:\s*|Bearer\s+|Basic\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL)
_TOKEN = re.compile(
    r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)"
)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]\d)")
# The machine itself, not a domain under it (``alpha-3.preview.localhost`` is a preview's address).
_LOCALHOST = re.compile(r"(?<![\w.-])localhost(?![\w-]|\.\w)", re.IGNORECASE)
REDACTED = "[redacted]"
INTERNAL = "[internal address]"


def _path_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(root) for root in _host_roots())
    # A root alone ("the /home page") is a word, not a path: a segment must follow it.
    return re.compile(rf"(?<![\w.~-])(?:{alternatives})(?:/{_SEGMENT})+/?")


def _shorten(match: re.Match[str]) -> str:
    last = match.group(0).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return f"…/{last}" if last else "…"


def _internal_ip(match: re.Match[str]) -> str:
    try:
        address = ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)
    return match.group(0) if address.is_global else INTERNAL


def looks_like_traceback(text: str) -> bool:
    return bool(_TRACEBACK.search(text))


def secrets_redact(text: str) -> str:
    """``text`` with every credential shape replaced by ``[redacted]``."""
    text = _PRIVATE_KEY.sub(REDACTED, text)
    text = _DSN.sub(f"{REDACTED} (a database address)", text)
    text = _URL_CREDENTIALS.sub(lambda match: f"{match[1]}{REDACTED}@", text)
    text = _AUTHORIZATION.sub(lambda match: f"{match[1]}{REDACTED}", text)
    text = _TOKEN.sub(REDACTED, text)
    text = _ASSIGNMENT.sub(lambda match: f"{match[1]}{REDACTED}", text)
    return _COLON_ASSIGNMENT.sub(lambda match: f"{match[1]}{REDACTED}", text)


def customer_text(text: str) -> str:
    """``text`` as a customer may read it: no traceback, no secret, no server path (absolute, under
    ``file://``, Windows-style or the relative storage one), no internal address."""
    if not text:
        return text
    if looks_like_traceback(text):
        return FAULT_SENTENCE
    text = secrets_redact(text)
    text = _FILE_URL.sub(lambda match: _shorten(match) if match[1] else "…", text)
    text = _WINDOWS_PATH.sub(_shorten, text)
    text = _path_pattern().sub(_shorten, text)
    text = _STORAGE_PATH.sub(_shorten, text)
    text = _IPV4.sub(_internal_ip, text)
    return _LOCALHOST.sub(INTERNAL, text)


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
