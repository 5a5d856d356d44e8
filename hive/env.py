"""Typed readers for the process environment: the only place settings touch ``os.environ``.

Each helper names the variable, its type and its default, and fails loudly on a value it cannot
read, so a typo in deployment configuration stops the process instead of silently falling back.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation


class EnvError(ValueError):
    """An environment variable holds a value of the wrong shape."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise EnvError(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise EnvError(f"{name} must be an integer, not {raw!r}") from exc


def env_decimal(name: str, default: str) -> Decimal:
    raw = os.environ.get(name) or default
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise EnvError(f"{name} must be a decimal number, not {raw!r}") from exc
    if not value.is_finite():
        raise EnvError(f"{name} must be a finite decimal number, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict[str, object]:
    """Read a ``postgres://user:password@host:port/dbname`` URL into Django's DATABASES entry."""
    from urllib.parse import parse_qs, unquote, urlsplit

    url = urlsplit(os.environ.get(name) or default)
    # ``?host=/path/to/socket-dir`` selects a Unix socket, as libpq does.
    socket_dir = parse_qs(url.query).get("host", [""])[0]
    if url.scheme not in {"postgres", "postgresql"}:
        raise EnvError(f"{name} must be a postgres:// URL, not {url.scheme!r}")
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": unquote(url.path.lstrip("/")) or "hive",
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or socket_dir,
        "PORT": str(url.port or ""),
    }
