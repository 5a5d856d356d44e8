"""Headless Chromium (the system's ``/usr/bin/chromium``) driven by Playwright against the live server.

Every page a browser test opens is watched for Content-Security-Policy violations (the
``securitypolicyviolation`` event and Chromium's "Refused to …" console errors); any of them fails
the test, so a page that needs an inline script or eval cannot pass the browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.asgi_errors import asgi_errors  # noqa: F401  (autouse: fails a test whose ASGI server logged an error)

CHROMIUM = os.environ.get("HIVE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while the browser tests
    # run (package scope: it is closed before other packages' async tests need the thread); the
    # ORM calls tests make around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


# Runs in every document before its own scripts (injected by the DevTools protocol, so the page's
# policy does not apply to it): reports each violation of the Content-Security-Policy.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation: ") or (text.startswith("Refused to") and "Content Security Policy" in text)


@pytest.fixture
def csp_violations() -> list[str]:
    """What Chromium refused under the Content-Security-Policy while the test ran; the ``page``
    fixture fails the test when anything is left in it."""
    return []


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, csp_violations: list[str]) -> Iterator[Any]:
    context = browser.new_context()
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    context.on(
        "console", lambda message: csp_violations.append(message.text) if _is_csp_violation(message.text) else None
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    if csp_violations:
        pytest.fail("Chromium refused content under the Content-Security-Policy:\n" + "\n".join(csp_violations))


@pytest.fixture
def site(live_server: Any) -> str:
    """The live server's origin on the apex domain (Chromium resolves *.localhost to loopback)."""
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://hive.localhost:{port}"
