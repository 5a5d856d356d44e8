"""Settings come from the environment, and production defaults are the safe ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, hive.settings as s; print(json.dumps({k: getattr(s, k) for k in "
    "['DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
    "'ALLOWED_HOSTS', 'SESSION_COOKIE_DOMAIN', 'HIVE_DOMAIN', 'HIVE_PREVIEW_DOMAIN']} | "
    "{'db': s.DATABASES['default']['NAME']}))"
)


def _settings(**env: str) -> subprocess.CompletedProcess[str]:
    ours = {"DEBUG", "HIVE_TESTING", "SECRET_KEY", "HIVE_DOMAIN", "HIVE_PREVIEW_DOMAIN"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean | env, capture_output=True, text=True, check=False
    )


def test_production_defaults_are_secure_and_scoped_to_the_domain() -> None:
    result = _settings(
        SECRET_KEY="s3cret",
        HIVE_DOMAIN="agenthive.example",
        HIVE_PREVIEW_DOMAIN="agenthive-preview.example",
        DATABASE_URL="postgres://u:p@db:5432/prod",
    )
    values = json.loads(result.stdout)

    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["ALLOWED_HOSTS"] == [
        "agenthive.example",
        ".agenthive.example",
        "agenthive-preview.example",
        ".agenthive-preview.example",
    ]
    assert values["SESSION_COOKIE_DOMAIN"] == ".agenthive.example"
    assert values["db"] == "prod"


def test_it_refuses_to_start_without_a_secret_key_in_production() -> None:
    result = _settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_malformed_boolean_is_an_error_not_a_silent_default() -> None:
    result = _settings(SECRET_KEY="x", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_previews_default_to_a_sibling_of_the_portal_in_development() -> None:
    values = json.loads(_settings(DEBUG="1").stdout)
    assert values["HIVE_DOMAIN"] == "hive.localhost" and values["HIVE_PREVIEW_DOMAIN"] == "preview.localhost"
    assert {"preview.localhost", ".preview.localhost"} <= set(values["ALLOWED_HOSTS"])


def test_it_refuses_a_preview_domain_under_the_portals_or_the_portal_under_it() -> None:
    for preview in ("previews.agenthive.example", "agenthive.example", "example"):
        result = _settings(SECRET_KEY="x", HIVE_DOMAIN="agenthive.example", HIVE_PREVIEW_DOMAIN=preview)
        assert result.returncode != 0, preview
        assert "HIVE_PREVIEW_DOMAIN" in result.stderr and "under" in result.stderr, result.stderr[-300:]
    result = _settings(SECRET_KEY="x", HIVE_DOMAIN="agenthive.example", HIVE_PREVIEW_DOMAIN="bad_host!")
    assert result.returncode != 0 and "is not a host name" in result.stderr


def test_production_needs_a_preview_domain() -> None:
    result = _settings(SECRET_KEY="x", HIVE_DOMAIN="agenthive.example")
    assert result.returncode != 0
    assert "HIVE_PREVIEW_DOMAIN must be set" in result.stderr
