"""What each file of an uploaded code base is: code to migrate, or something that comes with it.

This module owns that decision. Customers send their repository, not only their package: its own
tests, its packaging and build configuration, its documentation and its examples come along. They
are measured (lines, complexity) like everything else, but only **code** is cut into migration
phases, balanced and priced:

- **legacy tests** (``tests/``, ``test/``, ``__tests__/`` and ``spec/`` directories, ``test_*.py``,
  ``*_test.py``, ``conftest.py``, ``*_test.go``, ``*.test.js``/``*.spec.ts``, ``*Test.java``,
  ``*_spec.rb``) are the code's own test suite: the parity gate runs them on the legacy code as
  the baseline and on every migrated phase, so they must stay as they are;
- **packaging and configuration** (``setup.py``, ``noxfile.py``, ``fabfile.py``, ``pavement.py``
  outside a package, ``Gruntfile.js``, ``gulpfile.js``, ``*.config.js``) builds, tests and
  publishes the code; it is not part of what the code does;
- **documentation** (``docs/``, ``doc/``, incl. Sphinx's ``conf.py`` and theme files) is not run;
- **examples and benchmarks** (``examples/``, ``samples/``, ``demo/``, ``bench/``,
  ``benchmarks/``) show how the code is used; they are listed, not migrated.

Scripts (``scripts/``, ``bin/``, ``tools/``) stay code: in a customer's repository they often run
in production, so they are migrated with the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import PurePosixPath


class Kind(StrEnum):
    CODE = "code"
    TESTS = "tests"
    PACKAGING = "packaging"
    DOCS = "docs"
    EXAMPLES = "examples"


#: How each kind that is not migrated is treated, as the assessment page says it.
TREATMENT: dict[Kind, tuple[str, str]] = {
    Kind.TESTS: ("legacy tests", "run as the parity baseline on the legacy code and on every phase, not migrated"),
    Kind.PACKAGING: ("packaging and configuration", "builds and publishes the code; not migrated"),
    Kind.DOCS: ("documentation", "not migrated"),
    Kind.EXAMPLES: ("examples and benchmarks", "listed, not migrated: they show how the code is used"),
}
MIGRATED_SCOPE = (
    "Only code is cut into phases, balanced and priced; scripts (scripts/, bin/, tools/) are migrated with the "
    "code, since they may run in production."
)

_TEST_DIRS = frozenset({"tests", "test", "__tests__", "spec"})
_DOC_DIRS = frozenset({"docs", "doc", "documentation"})
_EXAMPLE_DIRS = frozenset(
    {"examples", "example", "samples", "sample", "demo", "demos", "bench", "benchmark", "benchmarks"}
)
_TEST_NAME = re.compile(
    r"^(test_.*\.py|.*_test\.py|conftest\.py|.*_test\.go|.*\.(test|spec)\.(js|jsx|ts|tsx|mjs|cjs)"
    r"|.*Tests?\.(java|cs)|.*_spec\.rb)$"
)
_BUILD_SCRIPTS = frozenset({"setup.py", "noxfile.py", "fabfile.py", "pavement.py", "Gruntfile.js", "gulpfile.js"})
_CONFIG_NAME = re.compile(r"^.*\.config\.(js|ts|mjs|cjs)$")


def is_test(path: str | PurePosixPath) -> bool:
    """A file of the code's own test suite (the pytest and parity side uses the same rule)."""
    parts = PurePosixPath(path).parts
    return bool(_TEST_DIRS.intersection(parts[:-1])) or bool(parts and _TEST_NAME.match(parts[-1]))


def packages_of(paths: Iterable[str]) -> frozenset[str]:
    """The directories that are Python packages (hold an ``__init__.py``)."""
    return frozenset(str(PurePosixPath(p).parent) for p in paths if PurePosixPath(p).name == "__init__.py")


def kind_of(path: str, packages: frozenset[str] = frozenset()) -> Kind:
    """The kind of the file at ``path`` (relative, POSIX); ``packages`` are the package directories,
    so that a module called ``setup.py`` inside a package stays code."""
    pure = PurePosixPath(path)
    directories = set(pure.parts[:-1])
    if is_test(pure):
        return Kind.TESTS
    if directories & _DOC_DIRS:
        return Kind.DOCS
    if directories & _EXAMPLE_DIRS:
        return Kind.EXAMPLES
    if (pure.name in _BUILD_SCRIPTS and str(pure.parent) not in packages) or _CONFIG_NAME.match(pure.name):
        return Kind.PACKAGING
    return Kind.CODE
