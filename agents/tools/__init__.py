"""The tools agents use on a working tree: running test suites with coverage, the static security
scan, the linter, the secret scan and the page-load probe. Each runs the real program in a
subprocess (with a minimal environment, so no secret of the platform reaches customer code) and
returns typed numbers parsed from its machine-readable output. Test suites execute code nobody on
the platform wrote, so they run in the sandbox (``sandbox``): limits, no network, nothing left
behind.
"""

from agents.tools.lint import LintReport, lint_run
from agents.tools.pageload import PageLoadReport, page_load_probe
from agents.tools.process import clean_environment
from agents.tools.sandbox import Limits, SandboxResult, sandbox_run
from agents.tools.secrets import secret_scan
from agents.tools.security import SecurityReport, security_scan
from agents.tools.testing import TestReport, pytest_run, unittest_run

__all__ = [
    "Limits",
    "LintReport",
    "PageLoadReport",
    "SandboxResult",
    "SecurityReport",
    "TestReport",
    "clean_environment",
    "lint_run",
    "page_load_probe",
    "pytest_run",
    "sandbox_run",
    "secret_scan",
    "security_scan",
    "unittest_run",
]
