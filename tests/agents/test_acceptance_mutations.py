"""Each generated acceptance test fails when the behaviour its criterion describes is broken.

The vet-clinic document (tests/data/appgen/vet_clinic.md) is generated into an application; then,
one at a time, the code is mutated the way a careless change would break it — the state change
removed, a required check dropped, the permission check dropped, the link check dropped, records
shown to other users, an edit not saved — and the suite runs in the sandbox exactly as the
developers' and QA's test runs do. The criterion's own test must go red, and must be green on the
unmutated code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agents.appgen import generate
from agents.appgen.capabilities import capability_gap
from agents.appgen.design import design_stories
from agents.tools import unittest_run
from tests.agents.test_domain_model import DATA, items_of

# criterion kind → (the test that checks it, file, the code it relies on, what a careless change makes of it)
MUTATIONS = {
    "state": (
        "tests.test_story_004.Story004Acceptance.test_story_004_criterion_1_state",
        "app/entities/appointment.py",
        "    closed=('booked', 'cancelled'),\n",
        "",
    ),
    "required": (
        "tests.test_story_001.Story001Acceptance.test_story_001_criterion_2_required",
        "app/entities/pet.py",
        "Field('species', 'text', required=True)",
        "Field('species', 'text')",
    ),
    "permission": (
        "tests.test_story_006.Story006Acceptance.test_story_006_criterion_1_permission",
        "app/entities/visit_note.py",
        "    writers=('vet',),\n",
        "",
    ),
    "link": (
        "tests.test_story_003.Story003Acceptance.test_story_003_criterion_3_link",
        "app/web.py",
        "errors = {**self.link_errors(entity, owner, values), **errors}",
        "errors = dict(errors)",
    ),
    "privacy": (
        "tests.test_story_001.Story001Acceptance.test_story_001_criterion_3_privacy",
        "app/db.py",
        'f"SELECT * FROM {_name(entity.table)} WHERE owner_id = ? AND id = ?",  # nosec B608',
        'f"SELECT * FROM {_name(entity.table)} WHERE owner_id > -? AND id = ?",  # nosec B608',
    ),
    "create": (
        "tests.test_story_001.Story001Acceptance.test_story_001_criterion_1_create",
        "app/web.py",
        "        self.db.record_update(entity, owner, record_id, values)\n        return Response.json(",
        "        return Response.json(",
    ),
}


@pytest.fixture(scope="module")
def application(tmp_path_factory: pytest.TempPathFactory) -> Path:
    items = [i for i in items_of((DATA / "vet_clinic.md").read_text()) if not _gap(i)]
    # The document's third story gets a criterion about its link, so that the link kind is checked.
    for item in items:
        if item["number"] == 3:
            item["acceptance_criteria"] = [*item["acceptance_criteria"], "The appointment shows the pet"]
    tree = tmp_path_factory.mktemp("vet") / "app"
    generate(tree, "Paws & Claws", design_stories(items))
    return tree


def _gap(item: dict[str, object]) -> bool:
    criteria = [str(c) for c in item["acceptance_criteria"]]  # type: ignore[attr-defined]
    return capability_gap(str(item["title"]), str(item["sentence"]), criteria) is not None


def test_every_criterion_test_passes_on_the_generated_code(application: Path) -> None:
    report = unittest_run(application)
    assert report.ok, report.output
    for test, *_ in MUTATIONS.values():
        assert report.outcomes.get(test) == "passed", (test, sorted(report.outcomes))


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_the_criterion_test_goes_red_when_the_behaviour_is_broken(application: Path, tmp_path: Path, kind: str) -> None:
    test, path, original, broken = MUTATIONS[kind]
    tree = tmp_path / "mutated"
    shutil.copytree(application, tree)
    source = (tree / path).read_text()
    assert source.count(original) >= 1, f"the generated {path} no longer holds {original!r}"
    (tree / path).write_text(source.replace(original, broken))

    report = unittest_run(tree)

    assert report.outcomes.get(test) == "failed", (kind, report.outcomes.get(test), report.output[-1500:])
    assert test in report.details and "Traceback" in report.details[test]
