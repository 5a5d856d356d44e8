"""The LLM provider: a model works on the project's workspace through a tool loop, under a budget.

The model is reached through the official SDKs: the Anthropic Messages API (``anthropic``) or any
OpenAI-compatible chat completions endpoint (``openai`` with a base URL, e.g. a local model
server). Deployment settings (``HIVE_LLM_*``) choose the API, endpoint, key, model, prices and the
default budget; a job's ``inputs["llm"]`` may override ``model``, ``budget_tokens``,
``budget_cost``, ``max_turns`` and ``test_command`` for its project, and carries what the project
has already spent (``spent_tokens``, ``spent_cost``) so the budget is the project's, not the run's.

The loop: send the conversation with the workspace tools (``agents.providers.llm_tools``); run
every tool call the reply makes and send the results back in the SDK's native shape (Anthropic
``tool_use``/``tool_result`` blocks, OpenAI ``tool_calls``/``tool`` messages); stop when a reply
makes no tool call. Before each call the cancellation probe and the budget are checked, and the
number of turns is capped. A reply that takes the project over its budget is still used — its tool
calls are carried out (that work is paid for) and, if it finishes the job, the job is done — but no
further call is made.

When the budget or the turn cap stops the loop, the job is *not* done, so the provider raises
``BudgetExhausted`` / ``LlmFailed`` (both ``JobFailed``) rather than returning an Outcome that
would mark unfinished work as succeeded; the orchestration then retries or blocks the task and a
person decides whether to raise the budget. The ``budget`` event says what stopped it, and the
exception carries the usage spent until then (``failure.usage``) for the caller to record. API
errors (HTTP errors after the SDK's own retries, unreachable endpoints, malformed replies) become
``LlmFailed`` with the API's message.
"""

from __future__ import annotations

import json
import math
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import anthropic
import openai
from anthropic.types import MessageParam, TextBlockParam, ToolParam, ToolResultBlockParam, ToolUseBlockParam
from django.conf import settings
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
)

from agents.providers.base import JobCancelled, JobContext, JobFailed, JobSpec, Outcome, Usage
from agents.providers.budget import Budget, Prices
from agents.providers.llm_tools import TOOLS, ToolResult, WorkspaceTools

APIS = ("anthropic", "openai")
DEFAULT_BASE_URLS = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1"}
MAX_INPUTS_CHARS = 20_000
MAX_RESULT_CHARS = 20_000


class LlmFailed(JobFailed):
    """The model could not finish the job; ``usage`` is what was spent before it stopped."""

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


class BudgetExhausted(LlmFailed):
    """The project's token or money budget stopped the loop."""


@dataclass(frozen=True, slots=True)
class LlmConfig:
    api: str
    base_url: str
    api_key: str
    model: str
    max_tokens: int
    max_turns: int
    timeout: float
    max_retries: int
    prices: Prices
    budget_tokens: int
    budget_cost: Decimal
    spent_tokens: int
    spent_cost: Decimal
    test_command: tuple[str, ...]
    test_timeout: float

    @classmethod
    def for_job(cls, spec: JobSpec) -> LlmConfig:
        """The deployment's settings with the job's project overrides; JobFailed when unusable."""
        override = spec.inputs.get("llm") or {}
        if not isinstance(override, Mapping):
            raise JobFailed("inputs.llm must be an object")
        api = settings.HIVE_LLM_API.strip().lower()
        if api not in APIS:
            raise JobFailed(f"HIVE_LLM_API must be one of {', '.join(APIS)}, not {settings.HIVE_LLM_API!r}")
        model = str(override.get("model") or settings.HIVE_LLM_MODEL).strip()
        if not model:
            raise JobFailed("no model configured: set HIVE_LLM_MODEL (or inputs.llm.model)")
        base_url = settings.HIVE_LLM_BASE_URL.strip() or DEFAULT_BASE_URLS[api]
        api_key = settings.HIVE_LLM_API_KEY
        if not api_key and not settings.HIVE_LLM_BASE_URL.strip():
            raise JobFailed("no API key configured: set HIVE_LLM_API_KEY")
        command = override.get("test_command") or settings.HIVE_LLM_TEST_COMMAND
        test_command = tuple(shlex.split(command) if isinstance(command, str) else map(str, command))
        if not test_command:
            raise JobFailed("the test command is empty")
        return cls(
            api=api,
            base_url=base_url,
            # A local model server usually takes no key, but the SDKs insist on one.
            api_key=api_key or "none",
            model=model,
            max_tokens=_whole(override, "max_tokens", settings.HIVE_LLM_MAX_TOKENS),
            max_turns=_whole(override, "max_turns", settings.HIVE_LLM_MAX_TURNS),
            timeout=settings.HIVE_LLM_TIMEOUT_SECONDS,
            max_retries=settings.HIVE_LLM_MAX_RETRIES,
            prices=Prices(settings.HIVE_LLM_PRICE_INPUT_PER_1K, settings.HIVE_LLM_PRICE_OUTPUT_PER_1K),
            budget_tokens=_whole(override, "budget_tokens", settings.HIVE_LLM_BUDGET_TOKENS),
            budget_cost=_money(override, "budget_cost", settings.HIVE_LLM_BUDGET_COST),
            spent_tokens=_whole(override, "spent_tokens", 0),
            spent_cost=_money(override, "spent_cost", Decimal("0")),
            test_command=test_command,
            test_timeout=settings.HIVE_LLM_TEST_TIMEOUT_SECONDS,
        )


def _whole(override: Mapping[str, Any], key: str, default: int) -> int:
    value = override.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JobFailed(f"inputs.llm.{key} must be a whole number ≥ 0, not {value!r}")
    return value


def _money(override: Mapping[str, Any], key: str, default: Decimal) -> Decimal:
    value = override.get(key, default)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise JobFailed(f"inputs.llm.{key} must be an amount of money, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise JobFailed(f"inputs.llm.{key} must be an amount ≥ 0, not {value!r}")
    return amount


# --- one conversation, in each API's own shapes -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: Mapping[str, Any] | None  # None when the model sent something other than an object


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    calls: tuple[ToolCall, ...]
    input_tokens: int
    output_tokens: int
    stop_reason: str
    usage_estimated: bool = False


class Chat(Protocol):
    def send(self) -> Reply: ...

    def add_results(self, results: Sequence[tuple[ToolCall, ToolResult]]) -> None: ...

    def close(self) -> None: ...


def _clip(text: str) -> str:
    return text if len(text) <= MAX_RESULT_CHARS else text[:MAX_RESULT_CHARS] + "\n... (truncated)"


class AnthropicChat:
    """The Messages API: tools as ``tools``, calls as ``tool_use`` blocks, results as ``tool_result``."""

    def __init__(self, config: LlmConfig, system: str, task: str) -> None:
        self.config = config
        self.client = anthropic.Anthropic(
            api_key=config.api_key, base_url=config.base_url, timeout=config.timeout, max_retries=config.max_retries
        )
        self.system = system
        self.messages: list[MessageParam] = [{"role": "user", "content": task}]
        self.tools: list[ToolParam] = [
            {"name": tool.name, "description": tool.description, "input_schema": dict(tool.parameters)}
            for tool in TOOLS
        ]

    def send(self) -> Reply:
        message = self.client.messages.create(
            model=self.config.model,
            max_tokens=self.config.max_tokens,
            system=self.system,
            messages=self.messages,
            tools=self.tools,
        )
        # The SDK does not validate replies strictly: a body of the wrong shape arrives with fields
        # missing (None) or as a bare list, so the fields the loop needs are checked here.
        usage = getattr(message, "usage", None)
        if not isinstance(message, anthropic.types.Message) or usage is None:
            raise LlmFailed("the Anthropic API sent a malformed reply (no message or no usage)")
        content: list[TextBlockParam | ToolUseBlockParam] = []
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.content or []:
            if not isinstance(block, anthropic.types.TextBlock | anthropic.types.ToolUseBlock):
                continue  # other block kinds (thinking, server tools) are not used by this loop
            if block.type == "text":
                texts.append(block.text)
                content.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                arguments = block.input if isinstance(block.input, dict) else None
                calls.append(ToolCall(block.id, block.name, arguments))
                content.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        if not content:
            content.append({"type": "text", "text": "(no content)"})
        self.messages.append({"role": "assistant", "content": content})
        prompt = usage.input_tokens + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
        return Reply("\n".join(texts), tuple(calls), prompt, usage.output_tokens, str(message.stop_reason or ""))

    def add_results(self, results: Sequence[tuple[ToolCall, ToolResult]]) -> None:
        blocks: list[ToolResultBlockParam] = [
            {"type": "tool_result", "tool_use_id": call.id, "content": _clip(result.text), "is_error": result.is_error}
            for call, result in results
        ]
        self.messages.append({"role": "user", "content": blocks})

    def close(self) -> None:
        self.client.close()


class OpenAIChat:
    """Chat completions: tools as ``function`` tools, calls as ``tool_calls``, results as ``tool``
    messages. Servers that omit ``usage`` get a character-based estimate (4 characters a token)
    so the budget still holds; the turn's event says when that happened."""

    def __init__(self, config: LlmConfig, system: str, task: str) -> None:
        self.config = config
        self.client = openai.OpenAI(
            api_key=config.api_key, base_url=config.base_url, timeout=config.timeout, max_retries=config.max_retries
        )
        self.messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": task},
        ]
        self.tools: list[ChatCompletionFunctionToolParam] = [
            {
                "type": "function",
                "function": {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)},
            }
            for tool in TOOLS
        ]

    def send(self) -> Reply:
        completion = self.client.chat.completions.create(
            model=self.config.model,
            max_tokens=self.config.max_tokens,
            messages=self.messages,
            tools=self.tools,
        )
        choices = getattr(completion, "choices", None)
        if not isinstance(completion, openai.types.chat.ChatCompletion) or not choices:
            raise LlmFailed("the OpenAI-compatible API sent a malformed reply (no choices)")
        choice = choices[0]
        message = getattr(choice, "message", None)
        if message is None:
            raise LlmFailed("the OpenAI-compatible API sent a malformed reply (a choice without a message)")
        calls: list[ToolCall] = []
        call_params: list[ChatCompletionMessageFunctionToolCallParam] = []
        for call in message.tool_calls or []:
            if call.type != "function":
                continue
            try:
                parsed = json.loads(call.function.arguments or "{}")
            except json.JSONDecodeError:
                parsed = None
            calls.append(ToolCall(call.id, call.function.name, parsed if isinstance(parsed, dict) else None))
            call_params.append(
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            )
        if call_params:
            self.messages.append({"role": "assistant", "content": message.content, "tool_calls": call_params})
        else:
            self.messages.append({"role": "assistant", "content": message.content or ""})
        usage = completion.usage
        if usage is not None:
            prompt, output, estimated = usage.prompt_tokens, usage.completion_tokens, False
        else:
            sent = json.dumps(self.messages[:-1]) + json.dumps(self.tools)
            reply = json.dumps(self.messages[-1])
            prompt, output, estimated = math.ceil(len(sent) / 4), math.ceil(len(reply) / 4), True
        return Reply(message.content or "", tuple(calls), prompt, output, str(choice.finish_reason or ""), estimated)

    def add_results(self, results: Sequence[tuple[ToolCall, ToolResult]]) -> None:
        for call, result in results:
            text = _clip(result.text)
            self.messages.append({"role": "tool", "tool_call_id": call.id, "content": text})

    def close(self) -> None:
        self.client.close()


# A body that is not JSON at all reaches the caller as the SDKs' underlying JSONDecodeError.
_API_ERRORS: tuple[type[Exception], ...] = (anthropic.AnthropicError, openai.OpenAIError, json.JSONDecodeError)


def _api_error(api: str, error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{api} API sent a malformed reply (not JSON: {error})"
    status = getattr(error, "status_code", None)
    detail = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{api} API error{f' (HTTP {status})' if status else ''}: {detail}"


# --- the provider -------------------------------------------------------------------------------

SYSTEM_PROMPT = """You are the {role} agent of Agent Hive, a software delivery team of AI agents.
You work in a git workspace through tools: list_files, read_file, write_file (paths relative to
the workspace root), run_tests (runs `{test_command}` in the workspace, in a sandbox without
network access and with limits on time, memory and processes) and commit (stages every change and
commits it). Do the task, keep the tests passing, commit your work with a clear
message, then answer with a short summary of what you did and no further tool call."""


def _task_message(spec: JobSpec) -> str:
    inputs = {key: value for key, value in spec.inputs.items() if key != "llm"}
    described = json.dumps(inputs, indent=2, default=str, ensure_ascii=False)
    if len(described) > MAX_INPUTS_CHARS:
        described = described[:MAX_INPUTS_CHARS] + "\n... (truncated)"
    return f"Task ({spec.key}): {spec.title}\n\nInputs:\n{described}"


class LlmProvider:
    name = "llm"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        started = time.monotonic()
        config = LlmConfig.for_job(spec)
        budget = Budget(
            limit_tokens=config.budget_tokens,
            limit_cost=config.budget_cost,
            prices=config.prices,
            spent_tokens=config.spent_tokens,
            spent_cost=config.spent_cost,
        )
        tools = WorkspaceTools(
            context.workspace,
            context.report,
            author_name=spec.role,
            author_email=f"{spec.role}@agents.{settings.HIVE_DOMAIN}",
            test_command=config.test_command,
            test_timeout=config.test_timeout,
        )

        def usage() -> Usage:
            return Usage(seconds=time.monotonic() - started, tokens=budget.run_tokens, cost=budget.run_cost)

        system = SYSTEM_PROMPT.format(role=spec.role, test_command=shlex.join(config.test_command))
        chat: Chat = (AnthropicChat if config.api == "anthropic" else OpenAIChat)(config, system, _task_message(spec))
        try:
            for turn in range(1, config.max_turns + 1):
                if context.cancelled():
                    raise JobCancelled(f"cancelled before turn {turn}")
                stop = budget.stop_reason()
                if stop:
                    context.report("budget", f"stopped before turn {turn}: {stop}", _budget_data(budget, config))
                    raise BudgetExhausted(f"the project's LLM budget stopped the work: {stop}", usage())
                try:
                    reply = chat.send()
                except LlmFailed as failure:
                    raise LlmFailed(str(failure), usage()) from failure
                except _API_ERRORS as error:
                    raise LlmFailed(_api_error(config.api, error), usage()) from error
                budget.charge(reply.input_tokens, reply.output_tokens)
                context.report(
                    "llm",
                    f"turn {turn}: {len(reply.calls)} tool calls, "
                    f"{reply.input_tokens + reply.output_tokens:,} tokens ({config.model})",
                    {
                        "turn": turn,
                        "tool_calls": [call.name for call in reply.calls],
                        "input_tokens": reply.input_tokens,
                        "output_tokens": reply.output_tokens,
                        "usage_estimated": reply.usage_estimated,
                        "stop_reason": reply.stop_reason,
                    },
                )
                if not reply.calls:
                    return self._outcome(spec, reply, tools, budget, config, turn, usage())
                results: list[tuple[ToolCall, ToolResult]] = []
                for call in reply.calls:
                    if context.cancelled():
                        raise JobCancelled(f"cancelled during turn {turn}")
                    results.append((call, tools.call(call.name, call.arguments)))
                chat.add_results(results)
            raise LlmFailed(f"the model did not finish within {config.max_turns} turns", usage())
        finally:
            chat.close()

    @staticmethod
    def _outcome(
        spec: JobSpec, reply: Reply, tools: WorkspaceTools, budget: Budget, config: LlmConfig, turns: int, usage: Usage
    ) -> Outcome:
        summary = reply.text.strip() or f"{spec.title}: finished without a summary"
        if len(summary) > 500:
            summary = summary[:497] + "..."
        return Outcome(
            summary=summary,
            artifacts=tuple(tools.written),
            data={
                "api": config.api,
                "model": config.model,
                "turns": turns,
                "tool_calls": tools.calls,
                "commits": list(tools.commits),
                "tests": tools.last_tests,
                "input_tokens": budget.input_tokens,
                "output_tokens": budget.output_tokens,
                "project_tokens": budget.total_tokens,
                "project_cost": str(budget.total_cost),
            },
            usage=usage,
        )


def _budget_data(budget: Budget, config: LlmConfig) -> dict[str, Any]:
    return {
        "limit_tokens": config.budget_tokens,
        "limit_cost": str(config.budget_cost),
        "project_tokens": budget.total_tokens,
        "project_cost": str(budget.total_cost),
        "run_tokens": budget.run_tokens,
        "run_cost": str(budget.run_cost),
        "calls": budget.calls,
    }


__all__ = ["BudgetExhausted", "LlmConfig", "LlmFailed", "LlmProvider"]
