"""The far end of the LLM provider in tests: a local HTTP server that plays back scripted model
replies, for the real ``anthropic`` and ``openai`` SDKs on the other side.

It listens on 127.0.0.1 on a free port and answers ``POST /v1/messages`` (Anthropic Messages) and
``POST /v1/chat/completions`` (OpenAI chat completions). A script is a list of steps played in
order: a ``Turn`` (text and tool calls, rendered in the shape of whichever endpoint was asked) or a
``Raw`` HTTP answer (errors, malformed bodies). When the script runs out, ``forever`` (if set)
answers every further request — the runaway model. Every request is recorded (path, headers,
JSON body), so tests can check what the SDK sent back, tool results included.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANTHROPIC_PATH = "/v1/messages"
OPENAI_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Turn:
    """One model reply: some text and the tool calls it makes (name, arguments)."""

    text: str = ""
    calls: Sequence[tuple[str, Mapping[str, Any]]] = ()
    input_tokens: int = 100
    output_tokens: int = 20


CALC = "def add(a, b):\n    return a + b\n"
TEST_CALC = (
    "from calc import add\n\n\n"
    "def test_it_adds():\n    assert add(2, 3) == 5\n\n\n"
    "def test_it_adds_negatives():\n    assert add(-2, -3) == -5\n"
)


def calculator_script(summary: str) -> list[Turn]:
    """A model that writes ``calc.py`` and its tests, runs them, commits, and ends with ``summary``
    (7,900 tokens in, 375 out, in four replies)."""
    return [
        Turn(
            "Writing the module and its tests.",
            [
                ("write_file", {"path": "calc.py", "content": CALC}),
                ("write_file", {"path": "tests/test_calc.py", "content": TEST_CALC}),
            ],
            input_tokens=1200,
            output_tokens=300,
        ),
        Turn(calls=[("run_tests", {})], input_tokens=1600, output_tokens=20),
        Turn(calls=[("commit", {"message": "Add the calculator and its tests"})], input_tokens=2000, output_tokens=25),
        Turn(summary, input_tokens=2100, output_tokens=30),
    ]


@dataclass(frozen=True)
class Raw:
    """An HTTP answer as given, e.g. a 500 or a body that is not what the API promises."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


class ScriptedLLM:
    def __init__(self, script: Sequence[Turn | Raw] = (), *, forever: Turn | None = None) -> None:
        self.script: list[Turn | Raw] = list(script)
        self.forever = forever
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="scripted-llm", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def anthropic_base_url(self) -> str:
        return self.url  # the SDK appends /v1/messages

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"  # the SDK appends /chat/completions

    def start(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    @property
    def model_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path in {ANTHROPIC_PATH, OPENAI_PATH}]

    # --- answering ----------------------------------------------------------------------------

    def _next(self) -> Turn | Raw:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            if self.forever is not None:
                return self.forever
        return Raw(500, json.dumps({"error": {"message": "the test script has no more replies"}}).encode())

    def _render(self, path: str, request: Mapping[str, Any], turn: Turn) -> bytes:
        number = next(self._ids)
        if path == ANTHROPIC_PATH:
            content: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text else []
            content += [
                {"type": "tool_use", "id": f"toolu_{number:03d}_{index}", "name": name, "input": dict(arguments)}
                for index, (name, arguments) in enumerate(turn.calls)
            ]
            return json.dumps(
                {
                    "id": f"msg_{number:03d}",
                    "type": "message",
                    "role": "assistant",
                    "model": request.get("model", ""),
                    "content": content,
                    "stop_reason": "tool_use" if turn.calls else "end_turn",
                    "stop_sequence": None,
                    "usage": {"input_tokens": turn.input_tokens, "output_tokens": turn.output_tokens},
                }
            ).encode()
        tool_calls = [
            {
                "id": f"call_{number:03d}_{index}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for index, (name, arguments) in enumerate(turn.calls)
        ]
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return json.dumps(
            {
                "id": f"chatcmpl-{number:03d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", ""),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
                "usage": {
                    "prompt_tokens": turn.input_tokens,
                    "completion_tokens": turn.output_tokens,
                    "total_tokens": turn.input_tokens + turn.output_tokens,
                },
            }
        ).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def _answer(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body: Any = json.loads(raw or b"null")
                except json.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
                path = self.path.split("?", 1)[0]
                with scripted._lock:
                    scripted.requests.append(
                        Recorded("POST", path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                if path not in {ANTHROPIC_PATH, OPENAI_PATH}:
                    self._answer(404, b'{"error": {"message": "not found"}}', "application/json", {})
                    return
                step = scripted._next()
                if isinstance(step, Raw):
                    self._answer(step.status, step.body, step.content_type, step.headers)
                else:
                    request = body if isinstance(body, dict) else {}
                    self._answer(200, scripted._render(path, request, step), "application/json", {})

            def do_GET(self) -> None:
                with scripted._lock:
                    scripted.requests.append(
                        Recorded("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None)
                    )
                self._answer(404, b'{"error": {"message": "not found"}}', "application/json", {})

        return Handler


@contextmanager
def scripted_llm(script: Sequence[Turn | Raw] = (), *, forever: Turn | None = None) -> Iterator[ScriptedLLM]:
    server = ScriptedLLM(script, forever=forever).start()
    try:
        yield server
    finally:
        server.stop()
