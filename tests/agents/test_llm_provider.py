"""The LLM provider (agents/providers/llm.py, llm_tools.py, budget.py) end to end: the real
``anthropic`` and ``openai`` SDKs talk to a scripted model server on 127.0.0.1
(tests/agents/scripted_llm.py), and the tool calls act on a real workspace: files are written,
the tests the model wrote run, commits land in git, the budget stops a runaway loop, escapes are
refused, and API failures become a clear JobFailed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents.providers import JobCancelled, JobContext, JobFailed, JobSpec, provider_get
from agents.providers.budget import Budget, Prices
from agents.providers.llm import BudgetExhausted, LlmFailed, LlmProvider
from agents.providers.llm_tools import PathRefused, confine, count_test_results
from tests.agents.scripted_llm import (
    ANTHROPIC_PATH,
    CALC,
    OPENAI_PATH,
    TEST_CALC,
    Raw,
    Recorded,
    ScriptedLLM,
    Turn,
    calculator_script,
    scripted_llm,
)

APIS = ["anthropic", "openai"]


class Events:
    """Collects what the provider reports, as the orchestration's ``report`` would store it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, kind: str, message: str, data: Mapping[str, Any] | None = None) -> None:
        json.dumps(data or {})  # events are stored as JSON: everything reported must serialise
        self.items.append((kind, message, dict(data or {})))

    def of(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [item for item in self.items if item[0] == kind]


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDKs honour proxy variables; the scripted server must be reached directly."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def configure(settings: Any) -> Any:
    def apply(kind: str, server: ScriptedLLM, **overrides: Any) -> None:
        settings.HIVE_LLM_API = kind
        settings.HIVE_LLM_BASE_URL = server.anthropic_base_url if kind == "anthropic" else server.openai_base_url
        settings.HIVE_LLM_API_KEY = "test-key"
        settings.HIVE_LLM_MODEL = "scripted-model"
        settings.HIVE_LLM_MAX_RETRIES = 0
        settings.HIVE_LLM_TIMEOUT_SECONDS = 10.0
        settings.HIVE_LLM_MAX_TURNS = 60
        settings.HIVE_LLM_BUDGET_TOKENS = 1_000_000
        settings.HIVE_LLM_BUDGET_COST = Decimal("100")
        settings.HIVE_LLM_PRICE_INPUT_PER_1K = Decimal("0.003")
        settings.HIVE_LLM_PRICE_OUTPUT_PER_1K = Decimal("0.015")
        settings.HIVE_LLM_TEST_COMMAND = "python -m pytest -q"
        settings.HIVE_LLM_TEST_TIMEOUT_SECONDS = 60.0
        for name, value in overrides.items():
            setattr(settings, f"HIVE_LLM_{name.upper()}", value)

    return apply


def context(workspace: Path, events: Events, cancelled: Any = lambda: False) -> JobContext:
    return JobContext(workspace=workspace, report=events, cancelled=cancelled)


def spec(**llm: Any) -> JobSpec:
    inputs: dict[str, Any] = {"story": {"title": "Add two numbers", "acceptance_criteria": ["2 + 3 = 5"]}}
    if llm:
        inputs["llm"] = llm
    return JobSpec(role="fullstack-developer", key="story", title="Calculator", inputs=inputs)


def git(workspace: Path, *args: str) -> str:
    """Plain git on the workspace's repository, which lives beside the tree (never inside it)."""
    command = ["git", f"--git-dir={workspace.parent / 'repository.git'}", f"--work-tree={workspace}", *args]
    return subprocess.run(command, cwd=workspace, capture_output=True, text=True, check=True).stdout


def tool_results(api: str, request: Recorded) -> list[dict[str, Any]]:
    """The tool results the SDK sent back in a request, as (id, content, is_error) dicts."""
    messages = request.body["messages"]
    if api == "anthropic":
        blocks = messages[-1]["content"]
        return [
            {"id": b["tool_use_id"], "content": b["content"], "is_error": b.get("is_error", False)}
            for b in blocks
            if b["type"] == "tool_result"
        ]
    trailing: list[dict[str, Any]] = []
    for message in reversed(messages):
        if message["role"] != "tool":
            break
        trailing.insert(0, {"id": message["tool_call_id"], "content": message["content"], "is_error": None})
    return trailing


def tool_call_ids(api: str, request: Recorded) -> list[str]:
    """The ids of the tool calls the previous reply made, as echoed back in the conversation."""
    messages = request.body["messages"]
    assistant = [m for m in messages if m["role"] == "assistant"][-1]
    if api == "anthropic":
        return [block["id"] for block in assistant["content"] if block["type"] == "tool_use"]
    return [call["id"] for call in assistant["tool_calls"]]


# --- the loop, the tools and the SDKs end to end ------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_it_writes_files_runs_the_tests_and_commits(api: str, configure: Any, workspace: Path, events: Events):
    script = calculator_script("Added calc.add with two tests; both pass and the work is committed.")
    with scripted_llm(script) as server:
        configure(api, server)
        outcome = LlmProvider().run(spec(), context(workspace, events))

    # The files changed in the workspace.
    assert (workspace / "calc.py").read_text() == CALC
    assert (workspace / "tests/test_calc.py").read_text() == TEST_CALC
    assert outcome.artifacts == ("calc.py", "tests/test_calc.py")
    assert [e[2]["path"] for e in events.of("artifact")] == ["calc.py", "tests/test_calc.py"]

    # The tests the model wrote really ran, and the event says how they went.
    [(_, message, tests)] = events.of("tests")
    assert (tests["passed"], tests["failed"], tests["errors"], tests["exit_code"]) == (2, 0, 0, 0)
    assert message.startswith("tests passed: 2 passed, 0 failed")

    # The commit landed, authored by the role.
    [(_, _, commit)] = events.of("commit")
    log = git(workspace, "log", "--format=%H|%an|%ae|%s").strip().splitlines()
    author = "fullstack-developer|fullstack-developer@agents.hive.localhost"
    assert log == [f"{commit['sha']}|{author}|Add the calculator and its tests"]
    assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == ["calc.py", "tests/test_calc.py"]
    assert git(workspace, "status", "--porcelain") == ""  # no caches or bytecode left behind

    # Usage comes from the API's usage fields; cost from the configured prices.
    tokens = 1200 + 300 + 1600 + 20 + 2000 + 25 + 2100 + 30
    assert outcome.usage.tokens == tokens
    assert outcome.usage.cost == Decimal("6900") * Decimal("0.003") / 1000 + Decimal("375") * Decimal("0.015") / 1000
    assert outcome.usage.seconds > 0
    assert outcome.summary == "Added calc.add with two tests; both pass and the work is committed."
    assert outcome.data["commits"] == [commit["sha"]]
    assert outcome.data["tests"]["passed"] == 2
    assert len(events.of("llm")) == 4

    # What the SDK sent: the credentials, the model, the tools, and every tool result back under
    # the id of the call it answers, in the API's own format.
    requests = server.model_requests
    assert [r.path for r in requests] == [ANTHROPIC_PATH if api == "anthropic" else OPENAI_PATH] * 4
    first = requests[0]
    assert first.headers["authorization"] == "Bearer test-key"  # both SDKs send the key this way
    if api == "anthropic":
        assert [tool["name"] for tool in first.body["tools"]] == [
            "list_files",
            "read_file",
            "write_file",
            "run_tests",
            "commit",
        ]
        assert "fullstack-developer" in first.body["system"]
    else:
        assert [tool["function"]["name"] for tool in first.body["tools"]] == [
            "list_files",
            "read_file",
            "write_file",
            "run_tests",
            "commit",
        ]
        assert first.body["messages"][0]["role"] == "system"
    assert first.body["model"] == "scripted-model"
    assert "Add two numbers" in json.dumps(first.body["messages"])

    written = tool_results(api, requests[1])
    assert [r["id"] for r in written] == tool_call_ids(api, requests[1])
    assert [r["content"] for r in written] == [
        f"created calc.py ({len(CALC)} bytes)",
        f"created tests/test_calc.py ({len(TEST_CALC)} bytes)",
    ]
    [ran] = tool_results(api, requests[2])
    assert ran["content"].startswith("tests passed: 2 passed")
    assert "2 passed" in ran["content"]
    [committed] = tool_results(api, requests[3])
    assert committed["content"].startswith(f"committed {commit['sha']}")
    if api == "anthropic":
        assert [r["is_error"] for r in [*written, ran, committed]] == [False] * 4


def test_it_reports_failing_tests_and_honours_the_projects_test_command(
    configure: Any, workspace: Path, events: Events
):
    failing = (
        "import unittest\n\n\nclass T(unittest.TestCase):\n"
        "    def test_ok(self):\n        self.assertTrue(True)\n\n"
        "    def test_wrong(self):\n        self.assertEqual(1, 2)\n"
    )
    script = [
        Turn(calls=[("write_file", {"path": "test_things.py", "content": failing})]),
        Turn(calls=[("run_tests", {})]),
        Turn("One test fails; I stop here for a human to look."),
    ]
    with scripted_llm(script) as server:
        configure("anthropic", server)
        outcome = LlmProvider().run(spec(test_command="python -m unittest"), context(workspace, events))
        [ran] = tool_results("anthropic", server.model_requests[2])
    [(_, message, tests)] = events.of("tests")
    assert (tests["passed"], tests["failed"], tests["errors"]) == (1, 1, 0)
    assert tests["exit_code"] != 0
    assert tests["command"] == "python -m unittest"
    assert message.startswith("tests failed: 1 passed, 1 failed")
    assert "AssertionError: 1 != 2" in ran["content"]
    assert outcome.data["tests"]["failed"] == 1


def test_tests_that_hang_are_killed_at_the_timeout(configure: Any, workspace: Path, events: Events):
    hang = "import time\n\n\ndef test_hangs():\n    time.sleep(60)\n"
    script = [
        Turn(calls=[("write_file", {"path": "test_hang.py", "content": hang})]),
        Turn(calls=[("run_tests", {})]),
        Turn("The suite hangs."),
    ]
    with scripted_llm(script) as server:
        configure("openai", server, test_timeout_seconds=1.0)
        LlmProvider().run(spec(), context(workspace, events))
        [result] = tool_results("openai", server.model_requests[2])
    [(_, message, tests)] = events.of("tests")
    assert tests["timed_out"] is True
    assert message.startswith("tests timed out after 1 s")
    assert result["content"].startswith("tests timed out after 1 s")


# --- the budget and the guards ------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_the_token_budget_stops_a_runaway_loop(api: str, configure: Any, workspace: Path, events: Events):
    runaway = Turn("Let me look again.", [("list_files", {})], input_tokens=1000, output_tokens=100)
    with scripted_llm(forever=runaway) as server:
        configure(api, server, budget_tokens=5000)
        with pytest.raises(BudgetExhausted) as stopped:
            LlmProvider().run(spec(), context(workspace, events))
        calls = len(server.model_requests)
    # 4 calls spend 4,400 tokens; the 5th would resend at least 4,400 + 1,100 > 5,000.
    assert calls == 4
    assert stopped.value.usage.tokens == 4400
    assert "budget" in str(stopped.value)
    assert "next call would exceed the token budget" in str(stopped.value)
    [(_, message, data)] = events.of("budget")
    assert message.startswith("stopped before turn 5")
    assert (data["project_tokens"], data["limit_tokens"], data["calls"]) == (4400, 5000, 4)
    assert isinstance(stopped.value, JobFailed)


def test_the_projects_money_budget_overrides_the_deployments(configure: Any, workspace: Path, events: Events):
    runaway = Turn(calls=[("list_files", {})], input_tokens=1000, output_tokens=100)
    with scripted_llm(forever=runaway) as server:
        configure("openai", server)  # deployment: 1M tokens, 100.00
        with pytest.raises(BudgetExhausted) as stopped:
            LlmProvider().run(spec(budget_tokens=0, budget_cost="0.01"), context(workspace, events))
        calls = len(server.model_requests)
    # Each call costs 0.0045; after two (0.009) the next costs at least 1,100 input tokens (0.0033).
    assert calls == 2
    assert stopped.value.usage.cost == Decimal("0.009")
    assert "money budget" in str(stopped.value)
    assert events.of("budget")[0][2]["limit_cost"] == "0.01"


def test_a_project_that_already_spent_its_budget_makes_no_call(configure: Any, workspace: Path, events: Events):
    with scripted_llm([Turn("never sent")]) as server:
        configure("anthropic", server, budget_tokens=10_000)
        with pytest.raises(BudgetExhausted, match="token budget used up: 10,000 of 10,000"):
            LlmProvider().run(spec(spent_tokens=10_000), context(workspace, events))
        assert server.model_requests == []
    assert len(events.of("budget")) == 1


def test_a_call_that_goes_over_the_budget_is_the_last(configure: Any, workspace: Path, events: Events):
    script = [Turn(calls=[("write_file", {"path": "notes.md", "content": "x"})], input_tokens=900, output_tokens=300)]
    with scripted_llm(script) as server:
        configure("anthropic", server, budget_tokens=1000)
        with pytest.raises(BudgetExhausted, match="token budget used up: 1,200 of 1,000"):
            LlmProvider().run(spec(), context(workspace, events))
        assert len(server.model_requests) == 1
    # The tool calls of the reply that went over were still carried out: that work is paid for.
    assert (workspace / "notes.md").read_text() == "x"


def test_the_turn_cap_stops_a_model_that_never_finishes(configure: Any, workspace: Path, events: Events):
    with scripted_llm(forever=Turn(calls=[("list_files", {})], input_tokens=10, output_tokens=1)) as server:
        configure("openai", server)
        with pytest.raises(LlmFailed, match="did not finish within 3 turns") as stopped:
            LlmProvider().run(spec(max_turns=3), context(workspace, events))
        assert len(server.model_requests) == 3
    assert stopped.value.usage.tokens == 33


def test_it_stops_when_the_run_is_cancelled(configure: Any, workspace: Path, events: Events):
    probes: list[int] = []

    def cancelled() -> bool:
        probes.append(1)
        return len(probes) > 2  # before turn 1, before its tool call, then stop

    with scripted_llm(forever=Turn(calls=[("list_files", {})])) as server:
        configure("anthropic", server)
        with pytest.raises(JobCancelled):
            LlmProvider().run(spec(), context(workspace, events, cancelled))
        assert len(server.model_requests) == 1


# --- confinement --------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_path_escapes_are_refused_and_reported(
    api: str, configure: Any, tmp_path: Path, workspace: Path, events: Events
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not read")
    workspace.mkdir()
    (workspace / "link").symlink_to(outside)
    attempts = [
        ("write_file", {"path": str(outside / "abs.txt"), "content": "x"}),
        ("write_file", {"path": "../outside/dotdot.txt", "content": "x"}),
        ("write_file", {"path": "link/via-link.txt", "content": "x"}),
        ("read_file", {"path": "link/secret.txt"}),
        ("write_file", {"path": ".git/hooks/pre-commit", "content": "#!/bin/sh\necho owned\n"}),
        ("list_files", {"path": "/etc"}),
    ]
    script = [
        Turn(calls=attempts),
        Turn(calls=[("write_file", {"path": "inside.txt", "content": "ok"})]),
        Turn("Done."),
    ]
    with scripted_llm(script) as server:
        configure(api, server)
        outcome = LlmProvider().run(spec(), context(workspace, events))
        refused = tool_results(api, server.model_requests[1])

    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert not (workspace / ".git" / "hooks" / "pre-commit").exists()
    assert len(events.of("refused")) == 6
    assert [e[2]["path"] for e in events.of("refused")] == [a[1]["path"] for a in attempts]
    assert all(r["content"].startswith("refused: ") for r in refused)
    assert "do not read" not in json.dumps([r["content"] for r in refused])
    if api == "anthropic":
        assert all(r["is_error"] for r in refused)
    assert [e[2]["path"] for e in events.of("artifact")] == ["inside.txt"]
    assert outcome.artifacts == ("inside.txt",)


def test_confine_names_each_kind_of_escape(tmp_path: Path):
    root = tmp_path.resolve()
    (root / "sub").mkdir()
    (root / "up").symlink_to(root.parent)
    assert confine(root, "sub/file.py") == root / "sub" / "file.py"
    assert confine(root, "./sub//file.py") == root / "sub" / "file.py"
    for path, reason in [
        ("/etc/passwd", "absolute"),
        ("~/x", "absolute"),
        ("sub/../../x", "'..'"),
        (".git/config", ".git"),
        ("up/x", "symbolic link"),
        ("", "required"),
        (None, "required"),
        ("a\x00b", "NUL"),
    ]:
        with pytest.raises(PathRefused, match=reason):
            confine(root, path)


def test_bad_tool_calls_get_an_error_result_not_a_crash(configure: Any, workspace: Path, events: Events):
    script = [
        Turn(calls=[("delete_everything", {}), ("read_file", {"path": "missing.txt"}), ("commit", {"message": ""})]),
        Turn(calls=[("commit", {"message": "Nothing yet"})]),
        Turn("Gave up."),
    ]
    with scripted_llm(script) as server:
        configure("anthropic", server)
        LlmProvider().run(spec(), context(workspace, events))
        results = tool_results("anthropic", server.model_requests[1])
        nothing = tool_results("anthropic", server.model_requests[2])
    assert [r["is_error"] for r in results] == [True, True, True]
    assert "no tool named 'delete_everything'" in results[0]["content"]
    assert "missing.txt is not a file" in results[1]["content"]
    assert nothing[0]["content"] == "nothing to commit: the workspace has no changes"
    assert events.of("repository")[0][1] == "initialised the workspace's git repository"


# --- API failures -------------------------------------------------------------------------------

_SERVER_ERROR = json.dumps({"type": "error", "error": {"type": "api_error", "message": "upstream exploded"}}).encode()


@pytest.mark.parametrize("api", APIS)
def test_an_http_500_becomes_a_clear_job_failure(api: str, configure: Any, workspace: Path, events: Events):
    with scripted_llm([Raw(500, _SERVER_ERROR)]) as server:
        configure(api, server)
        with pytest.raises(JobFailed) as failed:
            LlmProvider().run(spec(), context(workspace, events))
    assert str(failed.value).startswith(f"{api} API error (HTTP 500)")
    assert "upstream exploded" in str(failed.value)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"unexpected": true}', b"[1, 2]"])
def test_a_malformed_reply_becomes_a_clear_job_failure(
    api: str, body: bytes, configure: Any, workspace: Path, events: Events
):
    with scripted_llm([Raw(200, body)]) as server:
        configure(api, server)
        with pytest.raises(JobFailed, match="malformed reply"):
            LlmProvider().run(spec(), context(workspace, events))


def test_the_sdk_retries_a_transient_error_when_configured(configure: Any, workspace: Path, events: Events):
    script: list[Turn | Raw] = [Raw(503, _SERVER_ERROR, headers={"retry-after-ms": "10"}), Turn("Fine now.")]
    with scripted_llm(script) as server:
        configure("anthropic", server, max_retries=1)
        outcome = LlmProvider().run(spec(), context(workspace, events))
        assert len(server.model_requests) == 2
    assert outcome.summary == "Fine now."


def test_an_unreachable_endpoint_becomes_a_clear_job_failure(configure: Any, workspace: Path, events: Events):
    server = ScriptedLLM()  # bound to a free port, then closed before anything is sent
    server.stop()
    configure("openai", server)
    with pytest.raises(JobFailed, match="openai API error: Connection error"):
        LlmProvider().run(spec(), context(workspace, events))


# --- configuration ------------------------------------------------------------------------------


def test_a_local_openai_compatible_server_needs_no_key(configure: Any, workspace: Path, events: Events):
    no_usage = json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "local",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
        }
    ).encode()
    with scripted_llm([Raw(200, no_usage)]) as server:
        configure("openai", server, api_key="")
        outcome = LlmProvider().run(spec(model="local-model"), context(workspace, events))
        [request] = server.model_requests
    assert request.body["model"] == "local-model"
    assert request.headers["authorization"] == "Bearer none"
    # Without usage in the reply the budget still counts, by an estimate the event owns up to.
    assert outcome.usage.tokens > 0
    assert events.of("llm")[0][2]["usage_estimated"] is True


@pytest.mark.parametrize(
    ("overrides", "llm", "message"),
    [
        ({"model": ""}, {}, "no model configured"),
        ({"api": "cohere"}, {}, "HIVE_LLM_API must be one of anthropic, openai"),
        ({"api_key": "", "base_url": ""}, {}, "no API key configured"),
        ({}, {"budget_tokens": -5}, "inputs.llm.budget_tokens must be a whole number"),
        ({}, {"budget_cost": "lots"}, "inputs.llm.budget_cost must be an amount"),
    ],
)
def test_unusable_configuration_fails_before_any_call(
    overrides: dict[str, Any], llm: dict[str, Any], message: str, configure: Any, workspace: Path, events: Events
):
    with scripted_llm() as server:
        configure("anthropic", server, **overrides)
        with pytest.raises(JobFailed, match=message):
            LlmProvider().run(spec(**llm), context(workspace, events))
        assert server.requests == []


def test_the_provider_is_registered_as_llm():
    assert isinstance(provider_get("llm"), LlmProvider)


# --- the pieces ---------------------------------------------------------------------------------


def test_the_budget_compares_the_next_calls_floor_with_the_limits():
    budget = Budget(limit_tokens=0, limit_cost=Decimal("1"), prices=Prices(Decimal("1"), Decimal("2")))
    assert budget.stop_reason() is None
    budget.charge(200, 100)  # 0.2 + 0.2
    assert budget.run_cost == Decimal("0.4")
    assert budget.stop_reason() is None  # the next call costs at least 300 input tokens: 0.7 ≤ 1
    budget.charge(300, 50)  # 0.8 spent; the next call costs at least 0.35
    assert "next call would exceed the money budget: at least 1.1500 of 1.00" in (budget.stop_reason() or "")
    budget.charge(300, 0)
    assert "money budget used up: 1.1000 of 1.00" in (budget.stop_reason() or "")
    assert (budget.run_tokens, budget.calls) == (950, 3)


def test_it_reads_pytest_and_unittest_summaries():
    assert count_test_results("..F\n1 failed, 2 passed, 1 skipped in 0.1s") == {
        "passed": 2,
        "failed": 1,
        "errors": 0,
        "skipped": 1,
    }
    assert count_test_results("1 passed, 2 errors in 0.1s")["errors"] == 2
    assert count_test_results("Ran 5 tests in 0.01s\n\nFAILED (failures=1, errors=1, skipped=1)") == {
        "passed": 2,
        "failed": 1,
        "errors": 1,
        "skipped": 1,
    }
    assert count_test_results("Ran 3 tests in 0.01s\n\nOK (skipped=1)")["passed"] == 2
    assert count_test_results("no summary at all") == {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}


def test_the_tests_do_not_see_the_portals_secrets(configure: Any, workspace: Path, events: Events, monkeypatch: Any):
    monkeypatch.setenv("HIVE_LLM_API_KEY", "sk-should-not-leak")
    probe = (
        "import os\n\n\ndef test_env():\n"
        "    assert 'HIVE_LLM_API_KEY' not in os.environ\n    assert 'DATABASE_URL' not in os.environ\n"
    )
    script = [
        Turn(calls=[("write_file", {"path": "test_env.py", "content": probe})]),
        Turn(calls=[("run_tests", {})]),
        Turn("ok"),
    ]
    with scripted_llm(script) as server:
        configure("anthropic", server)
        LlmProvider().run(spec(), context(workspace, events))
    assert events.of("tests")[0][2]["passed"] == 1
