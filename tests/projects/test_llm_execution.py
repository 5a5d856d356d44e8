"""A project task done by the LLM provider through the real execution path: the project is started
with the ``llm`` provider, a real Celery worker claims the task (``execute_task`` →
``projects.delivery.execution.task_execute``) and the provider's tool loop drives the real ``anthropic`` /
``openai`` SDK against the scripted model server on 127.0.0.1 (tests/agents/scripted_llm.py) —
only the far end of HTTP is fake. What a customer could check afterwards: the files in the
project's repository, the role's commit, the Run with its provider, tokens and cost, the events
that say which tools ran; and a model that runs away is stopped by the project's budget, the task
blocked with a clear reason, and every token it used metered."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context

from agents.roles import Role
from projects.delivery.controls import task_approve
from projects.delivery.planning import project_start
from projects.delivery.workflow import PhaseTemplate, Step, WorkflowTemplate
from projects.models import Event, Phase, Project, Run, Service, Task, Workflow
from projects.storage import project_storage
from tests.agents.scripted_llm import (
    ANTHROPIC_PATH,
    CALC,
    OPENAI_PATH,
    TEST_CALC,
    ScriptedLLM,
    Turn,
    calculator_script,
    scripted_llm,
)
from tests.projects.progress import wait_while_progressing
from tests.workers import thread_worker

pytestmark = pytest.mark.django_db(transaction=True)

DEV = Role.FULLSTACK_DEVELOPER
INPUT_PER_1K, OUTPUT_PER_1K = Decimal("0.003"), Decimal("0.015")
STORY = {"number": 1, "title": "Add two numbers", "sentence": "As a clerk, I want to add two numbers"}


def template() -> WorkflowTemplate:
    """The owner signs off the set-up (the moment to give the project its own budget), then one
    developer task does the story."""
    phases = (
        PhaseTemplate("setup", "Set-up", 1, (Step("setup", "Owner approves the model set-up", None),)),
        PhaseTemplate("development", "Development", 1, (Step("story", "Implement story", DEV, fan_out="items"),)),
    )
    return WorkflowTemplate(name="llm-story", phases=phases, items=(dict(STORY, acceptance_criteria=["2 + 3 = 5"]),))


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDKs honour proxy variables; the scripted server must be reached directly."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def deploy_llm(settings: Any, api: str, server: ScriptedLLM) -> None:
    """The deployment's model settings (HIVE_LLM_* in the environment): the scripted server."""
    settings.HIVE_LLM_API = api
    settings.HIVE_LLM_BASE_URL = server.anthropic_base_url if api == "anthropic" else server.openai_base_url
    settings.HIVE_LLM_API_KEY = "test-key"
    settings.HIVE_LLM_MODEL = "scripted-model"
    settings.HIVE_LLM_MAX_RETRIES = 0
    settings.HIVE_LLM_TIMEOUT_SECONDS = 20.0
    settings.HIVE_LLM_MAX_TURNS = 20
    settings.HIVE_LLM_BUDGET_TOKENS = 1_000_000
    settings.HIVE_LLM_BUDGET_COST = Decimal("100")
    settings.HIVE_LLM_PRICE_INPUT_PER_1K = INPUT_PER_1K
    settings.HIVE_LLM_PRICE_OUTPUT_PER_1K = OUTPUT_PER_1K
    settings.HIVE_LLM_TEST_COMMAND = "python -m pytest -q"
    settings.HIVE_LLM_TEST_TIMEOUT_SECONDS = 120.0


def start(owner: Any, *, llm: dict[str, Any] | None = None) -> tuple[Project, Task]:
    """An MVP project on the llm provider, its set-up approved (with its own model settings in the
    story task's inputs, when given) so the worker takes the story."""
    project = Project.objects.create(name="Calculator", service=Service.MVP, status=Project.Status.IN_DELIVERY)
    project_start(project=project, user=owner, template=template(), provider="llm")
    story = Task.objects.get(project=project, key="story")
    if llm is not None:
        story.inputs = {**story.inputs, "llm": llm}
        story.save(update_fields=["inputs"])
    task_approve(task=Task.objects.get(project=project, key="setup"), user=owner)
    return project, story


def reports(project: Project, kind: str) -> list[Event]:
    return list(Event.objects.filter(project=project, kind=Event.Kind.TASK_REPORT, data__report=kind).order_by("pk"))


def git(workspace: Path, *args: str) -> str:
    """Plain git on the workspace's repository, which lives beside the tree (never inside it)."""
    command = ["git", f"--git-dir={workspace.parent / 'repository.git'}", f"--work-tree={workspace}", *args]
    return subprocess.run(command, cwd=workspace, capture_output=True, text=True, check=True).stdout


def cost(input_tokens: int, output_tokens: int) -> Decimal:
    return (Decimal(input_tokens) * INPUT_PER_1K + Decimal(output_tokens) * OUTPUT_PER_1K) / 1000


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_story_task_is_done_by_the_llm_provider_on_a_real_worker(api: str, hive: Any, settings: Any):
    script = calculator_script("Added calc.add with two passing tests and committed them.")
    with scripted_llm(script) as server, thread_worker(concurrency=2), schema_context("alpha"):
        deploy_llm(settings, api, server)
        project, story = start(hive.users["alpha_owner"])
        wait_while_progressing(
            lambda: Workflow.objects.get(project=project).status == Workflow.Status.COMPLETED,
            project_id=project.pk,
            what="the LLM story to be done",
            stalled_after=30,
        )
        requests = server.model_requests

        # The run: done by the llm provider, its usage metered from the API's own token counts.
        [run] = Run.objects.filter(task=story)
        assert (run.provider, run.status, run.attempt) == ("llm", Run.Status.SUCCEEDED, 1)
        assert run.agent_name.startswith(f"{DEV}-")
        assert run.usage_tokens == 1200 + 300 + 1600 + 20 + 2000 + 25 + 2100 + 30
        assert run.usage_cost == cost(1200 + 1600 + 2000 + 2100, 300 + 20 + 25 + 30)  # to the millionth
        assert run.usage_seconds > 0
        story.refresh_from_db()
        assert story.status == Task.Status.DONE
        assert story.output["summary"] == "Added calc.add with two passing tests and committed them."
        assert Phase.objects.get(project=project, key="development").status == Phase.Status.DONE

        # The events describe each tool call as it happened, attributed to the run.
        turns = reports(project, "llm")
        assert [e.data["tool_calls"] for e in turns] == [["write_file", "write_file"], ["run_tests"], ["commit"], []]
        assert all(e.run_id == run.pk and e.actor == run.agent_name for e in turns)
        assert [e.data["path"] for e in reports(project, "artifact")] == ["calc.py", "tests/test_calc.py"]
        [tests] = reports(project, "tests")
        assert (tests.data["passed"], tests.data["failed"], tests.data["exit_code"]) == (2, 0, 0)
        assert tests.message.startswith("tests passed: 2 passed, 0 failed")
        [commit] = reports(project, "commit")

        workspace = project_storage(project) / "workspace"

    # The files changed in the project's workspace, and the commit there is the role's.
    assert (workspace / "calc.py").read_text() == CALC
    assert (workspace / "tests" / "test_calc.py").read_text() == TEST_CALC
    log = git(workspace, "log", "--format=%H %an <%ae> %s").strip().splitlines()
    assert log == [f"{commit.data['sha']} {DEV} <{DEV}@agents.{settings.HIVE_DOMAIN}> Add the calculator and its tests"]
    assert git(workspace, "status", "--porcelain") == ""

    # The far end saw the real SDK: four calls, the tool results sent back under their calls' ids.
    assert [r.path for r in requests] == [ANTHROPIC_PATH if api == "anthropic" else OPENAI_PATH] * 4
    assert requests[0].headers["authorization"] == "Bearer test-key"
    assert "2 passed" in str(requests[2].body["messages"][-1])


def test_a_runaway_model_is_stopped_by_the_projects_budget_and_its_usage_metered(hive: Any, settings: Any):
    # The model never finishes: every reply asks for another look at the files.
    runaway = Turn("Let me look again.", [("list_files", {})], input_tokens=1000, output_tokens=100)
    with scripted_llm(forever=runaway) as server, thread_worker(concurrency=2), schema_context("alpha"):
        deploy_llm(settings, "openai", server)  # the deployment would allow a million tokens
        project, story = start(hive.users["alpha_owner"], llm={"budget_tokens": 2500})

        def blocked() -> bool:
            story.refresh_from_db()
            return story.status == Task.Status.BLOCKED

        wait_while_progressing(blocked, project_id=project.pk, what="the budget to block the task", stalled_after=30)
        calls = len(server.model_requests)

        # Three attempts: the first stops mid-loop when the next call could not fit (2,200 of
        # 2,500 spent, the next at least 1,100); the second's first call might fit, so it is made
        # and the project is over budget; the third makes no call at all.
        runs = list(Run.objects.filter(task=story).order_by("attempt"))
        assert [(r.provider, r.status) for r in runs] == [("llm", Run.Status.FAILED)] * 3
        assert [r.usage_tokens for r in runs] == [2200, 1100, 0]
        assert [r.usage_cost for r in runs] == [cost(2000, 200), cost(1000, 100), Decimal("0.0000")]
        assert calls == 3
        stops = reports(project, "budget")
        assert [e.message.split(":")[0] for e in stops] == [
            "stopped before turn 3",
            "stopped before turn 2",
            "stopped before turn 1",
        ]
        assert "the next call would exceed the token budget: at least 3,300 of 2,500 tokens" in stops[0].message
        assert "token budget used up: 3,300 of 2,500 tokens spent" in stops[2].message
        assert all(e.data["limit_tokens"] == 2500 for e in stops)
        failures = Event.objects.filter(project=project, kind=Event.Kind.TASK_FAILED).order_by("pk")
        assert [e.message.startswith("the project's LLM budget stopped the work") for e in failures] == [True] * 3
        assert story.blocked_reason.startswith("the project's LLM budget stopped the work: token budget used up")
        assert Event.objects.filter(project=project, kind=Event.Kind.TASK_BLOCKED, task=story).count() == 1
        assert Workflow.objects.get(project=project).status == Workflow.Status.RUNNING  # waiting for a person
