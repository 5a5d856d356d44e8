"""A domain model the customer recognizes, end to end: three requirement documents of different
domains and styles (tests/data/appgen/*.md) go through the requirements parser the portal uses and
the built-in architect, developers and QA engineer on a real workspace (sandboxed test runs,
reviewed merges). Beside each document, ``<name>.model.json`` is the model a person expects: the
generated application has exactly those entities, their key fields and links; an entity whose
name is not a noun of the document fails the test."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import inflect
import pytest

from agents.appgen import specs_read
from agents.appgen.design import merge_fields
from agents.providers import JobContext, JobFailed, JobSpec, Outcome
from agents.providers.builtin import BuiltinProvider
from agents.quoting import md_inline
from projects.requirements import analyse_requirements

DATA = Path(__file__).resolve().parents[1] / "data" / "appgen"
DOCUMENTS = ["vet_clinic", "supplier_portal", "volunteer_shifts"]
_ENGINE = inflect.engine()


def items_of(text: str) -> list[dict[str, Any]]:
    """The story items a project's workflow hands to its agents (projects.workflow.story_items)."""
    stories = analyse_requirements(text).stories
    return [
        {
            "number": number,
            "title": s.title,
            "sentence": s.sentence,
            "i_want": s.i_want,
            "priority": str(s.priority),
            "points": s.points,
            "acceptance_criteria": list(s.acceptance_criteria),
        }
        for number, s in enumerate(stories, 1)
    ]


class Team:
    def __init__(self, home: Path, project: str) -> None:
        self.project = project
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.workspace = home / "workspace"
        self.context = JobContext(
            workspace=self.workspace,
            report=lambda kind, message, data=None: self.events.append((kind, message, dict(data or {}))),
            cancelled=lambda: False,
        )

    def run(self, role: str, key: str, **inputs: Any) -> Outcome:
        spec = JobSpec(role=role, key=key, title=f"{key} step", inputs={"project": self.project, **inputs})
        return BuiltinProvider().run(spec, self.context)


def nouns_of(text: str) -> set[str]:
    """Every word of the document in its singular and plural form."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    return words | {str(_ENGINE.singular_noun(w) or w) for w in words} | {str(_ENGINE.plural_noun(w)) for w in words}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_generated_application_has_the_model_a_person_expects(tmp_path: Path, name: str) -> None:
    text = (DATA / f"{name}.md").read_text()
    expected = json.loads((DATA / f"{name}.model.json").read_text())
    items = items_of(text)
    team = Team(tmp_path / name, name.replace("_", " ").title())

    plan = team.run("solution_architect", "architecture", stories=items)
    gaps: dict[str, int] = {}
    for gap in plan.data["gaps"]:
        gaps[gap["capability"]] = gaps.get(gap["capability"], 0) + 1
    assert gaps == expected["gaps"]
    architecture = (team.workspace / "docs" / "architecture.md").read_text()
    assert "## What the built-in developers cannot build" in architecture
    for entity in expected["entities"]:
        assert f"| {md_inline(entity)} |" in architecture

    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda item: team.run("fullstack_developer", "story", item=item), items))
    not_built = [o.data["gap"]["story"] for o in outcomes if "gap" in o.data]
    assert sorted(not_built) == sorted(g["story"] for g in plan.data["gaps"])

    model = merge_fields(specs_read(team.workspace))
    assert sorted(model) == sorted(expected["entities"])  # no entity a person would not expect
    document_nouns = nouns_of(text)
    for entity_name, entity in model.items():
        assert all(part in document_nouns for part in entity_name.split("_")), entity_name
        wanted = expected["entities"][entity_name]
        own = [f.name for f in entity.fields if f.type != "link"]
        assert set(wanted["fields"]) <= set(own), (entity_name, own)
        assert sorted(f.name for f in entity.links) == sorted(wanted["links"]), entity_name
        assert all(not re.search(r"card|password|secret|token|cvv|iban", f) for f in own)
        module = (team.workspace / "app" / "entities" / f"{entity_name}.py").read_text()
        assert f"name={entity_name!r}" in module
    for entity_name, fields in expected.get("required", {}).items():
        assert sorted(f.name for f in model[entity_name].fields if f.required) == sorted(fields)
    for entity_name, states in expected.get("closed", {}).items():
        assert sorted(model[entity_name].closed) == sorted(states)
    for entity_name, roles in expected.get("writers", {}).items():
        assert list(model[entity_name].writers) == roles

    quality = team.run("qa_engineer", "quality")
    checks = quality.data["acceptance_checks"]
    every = [(i["number"], n) for i in items for n in range(1, max(len(i["acceptance_criteria"]), 1) + 1)]
    assert set(every) <= {(c["story"], c["index"]) for c in checks}
    assert not [c for c in checks if c["status"] == "fail"]
    for check in checks:
        if check["status"] == "pass":
            assert check["test"].startswith(f"tests.test_story_{check['story']:03d}.")
            assert f"criterion_{check['index']}_" in check["test"] and check["commit"]
        else:
            assert check["status"] == "unverified" and check["reason"] and not check["test"]
    gap_stories = {g["story"] for g in plan.data["gaps"]}
    assert all(c["status"] == "unverified" for c in checks if c["story"] in gap_stories)
    assert (team.workspace / "docs" / "acceptance.md").exists()


def test_a_story_that_names_no_thing_is_refused_before_any_code_is_written(tmp_path: Path) -> None:
    team = Team(tmp_path / "p", "Shop")
    item = {"number": 7, "title": "Faster", "sentence": "As a user, I want it to be quick and free", "i_want": ""}
    with pytest.raises(JobFailed, match="story 7 names no thing"):
        team.run("solution_architect", "architecture", stories=[item])
    with pytest.raises(JobFailed, match="story 7 cannot be built as planned: story 7 names no thing"):
        team.run("fullstack_developer", "story", item=item)
    assert not (team.workspace / "app" / "entities").exists() or not list(
        (team.workspace / "app" / "entities").glob("*.py")
    )


def test_a_payment_story_is_named_on_the_plan_and_nothing_is_built_for_it(tmp_path: Path) -> None:
    items = [
        {"number": 1, "title": "Pets", "sentence": "As a pet owner, I want to register my pets (name, species)"},
        {
            "number": 2,
            "title": "Pay online",
            "sentence": "As a pet owner, I want to pay the consultation fee online by card (Stripe)",
            "acceptance_criteria": ["The card number is stored for the next visit"],
        },
    ]
    team = Team(tmp_path / "p", "Vet")
    plan = team.run("solution_architect", "architecture", stories=items)
    gap = {
        "story": 2,
        "capability": "payments",
        "reason": "Taking payments needs a payment provider integration (Stripe); "
        "the built-in developers do not build payment flows and never store card details.",
    }
    assert plan.data["gaps"] == [gap]
    architecture = (team.workspace / "docs" / "architecture.md").read_text()
    section = architecture.split("## What the built-in developers cannot build")[1]
    assert "needs the model provider or a developer" in section and "payment provider integration" in section
    before = subprocess_git(team.workspace, "rev-parse", "main")

    outcome = team.run("fullstack_developer", "story", item=items[1])

    assert outcome.data["gap"] == gap and outcome.data["built"] is False
    assert "not built" in outcome.summary
    assert subprocess_git(team.workspace, "rev-parse", "main") == before  # nothing committed or merged
    assert "story/002" not in subprocess_git(team.workspace, "branch", "--list")
    assert not (team.workspace / "app").exists()
    assert [data for kind, _m, data in team.events if kind == "gap"][-1] == gap

    team.run("fullstack_developer", "story", item=items[0])
    code = "".join(p.read_text() for p in (team.workspace / "app").rglob("*.py"))
    assert "card" not in code.lower() and "stripe" not in code.lower()
    quality = team.run("qa_engineer", "quality")
    unbuilt = [c for c in quality.data["acceptance_checks"] if c["story"] == 2]
    assert [(c["status"], c["derived"]) for c in unbuilt] == [("unverified", False)]
    assert unbuilt[0]["reason"].startswith("not built: the story needs the model provider or a developer.")


def subprocess_git(workspace: Path, *args: str) -> str:
    import subprocess

    command = ["git", f"--git-dir={workspace.parent / 'repository.git'}", f"--work-tree={workspace}", *args]
    return subprocess.run(command, cwd=workspace, capture_output=True, text=True, check=True).stdout.strip()
