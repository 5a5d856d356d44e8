"""Bounded intake: requirements text and documents are parsed in a child process with limits.

This module owns *where and under which limits* customer requirements are parsed; *how* they are
read is `projects.scoping.documents`, *what* they mean is `projects.requirements`.

Why a child process: parsing a hostile file is unbounded in the web process. A 100 KB PDF whose
500 pages share one content stream took minutes of CPU, a 1 MB .docx 87 s and 412 MB, 1 MB of
pasted bullets 17 s and 43,000 stories — all while holding the GIL of a process that serves every
customer. Here each parse runs in a fresh child with `resource.setrlimit` caps on CPU seconds
and address space (RLIMIT_CPU, RLIMIT_AS; no core dumps), and the parent waits on a pipe with a
wall-clock deadline, killing the child when it passes. The waiting thread holds no GIL, so the
web process keeps answering; under ASGI the sync view already runs in its own thread.

Why hand-written: no maintained library runs a function under rlimits and a deadline and returns
a size-capped result (`concurrent.futures.ProcessPoolExecutor` reuses workers, cannot set limits
per job nor kill one job's worker; `multiprocessing` gives the pieces, this module puts them
together). The child is forked from a `forkserver` that has pypdf, python-docx and lxml already
imported, so a parse costs a fork (milliseconds) and not a new interpreter; the fork server holds
no Django state, no database connection and no request data of other customers.

The child answers in JSON, never pickle: whatever a parser bug lets a file do in the child, its
answer is only data to the web process. The answer is capped in size too.

Caps before any child runs: pasted text length and upload size. Caps inside: the document's own
(`DocumentLimits`: pages, content, XML size, paragraphs, text) and the story count, refused as
soon as story N+1 is found. Every refusal is a `RequirementsError` with a message for the form.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import resource
import signal
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from projects.requirements import (
    Features,
    Integration,
    IntegrationKind,
    NonFunctional,
    Priority,
    RequirementsAnalysis,
    RequirementsError,
    UnrecognisedColumns,
    UserStory,
    analyse_requirements,
)
from projects.scoping.documents import DocumentLimits, read_requirements_document

logger = logging.getLogger(__name__)

_MIB = 1024 * 1024
# Modules the fork server imports once, so that no child pays for them. "__main__" (the web
# server's or test runner's entry script, behind its `if __name__ == "__main__"` guard) is
# imported there once too: otherwise multiprocessing re-runs it in every child.
_PRELOAD = ["__main__", "projects.scoping.intake_limits", "pypdf", "docx", "lxml.etree", "openpyxl"]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(_PRELOAD)
# The turns for children in this web process: one semaphore per configured concurrency (made
# on first use; a changed setting gets its own, and holders release the one they took).
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """Bounds on parsing one customer submission. `from_settings` reads the portal's."""

    cpu_seconds: int = 8
    wall_seconds: float = 10.0
    # At most this many children per web process at once (each may use memory_bytes); a
    # submission waits up to wall_seconds for a turn.
    concurrency: int = 2
    memory_bytes: int = 768 * _MIB
    max_text_chars: int = 1_000_000
    max_stories: int = 500
    # The analyser's line patterns grow faster than linearly on one huge line (1 MB: ~10 s);
    # no requirement is 20,000 characters without a line break.
    max_line_chars: int = 20_000
    document: DocumentLimits = field(default_factory=DocumentLimits)

    @property
    def max_answer_bytes(self) -> int:
        # The text comes back with the stories: at most 4 bytes per character in UTF-8 JSON
        # (escapes aside), plus the stories, which cannot be more than the text they came from.
        return 12 * self.max_text_chars + _MIB

    @classmethod
    def from_settings(cls) -> IntakeLimits:
        from django.conf import settings

        return cls(
            cpu_seconds=settings.HIVE_INTAKE_CPU_SECONDS,
            wall_seconds=float(settings.HIVE_INTAKE_WALL_SECONDS),
            concurrency=settings.HIVE_INTAKE_CONCURRENCY,
            memory_bytes=settings.HIVE_INTAKE_MEMORY_MB * _MIB,
            max_text_chars=settings.HIVE_INTAKE_MAX_TEXT_CHARS,
            max_stories=settings.HIVE_INTAKE_MAX_STORIES,
            document=DocumentLimits(
                max_bytes=settings.HIVE_REQUIREMENTS_UPLOAD_MAX_BYTES,
                max_text_chars=settings.HIVE_INTAKE_MAX_TEXT_CHARS,
                max_pdf_pages=settings.HIVE_INTAKE_MAX_PDF_PAGES,
                max_pdf_content_bytes=settings.HIVE_INTAKE_MAX_PDF_CONTENT_BYTES,
                max_docx_xml_bytes=settings.HIVE_INTAKE_MAX_DOCX_XML_BYTES,
                max_docx_paragraphs=settings.HIVE_INTAKE_MAX_DOCX_PARAGRAPHS,
            ),
        )


@dataclass(frozen=True, slots=True)
class ParsedRequirements:
    """What a submission held: its text (extracted, for a document) and its analysis."""

    text: str
    analysis: RequirementsAnalysis


@dataclass(frozen=True, slots=True)
class _Job:
    limits: IntakeLimits
    text: str = ""
    filename: str | None = None
    data: bytes | None = None
    columns: tuple[tuple[str, str], ...] = ()  # which table column is which (header text, column)


def requirements_parse(
    *,
    limits: IntakeLimits,
    text: str = "",
    filename: str | None = None,
    data: bytes | None = None,
    columns: Mapping[str, str] | None = None,
) -> ParsedRequirements:
    """Parse pasted `text`, or the document `data` named `filename`, under `limits`.

    Raises `RequirementsError` with a message for the customer when the input is refused: by a
    cap, by the parser, or because parsing ran out of time or memory.
    """
    name = filename or ("The document" if data is not None else "The requirements")
    if data is None:
        if len(text) > limits.max_text_chars:
            raise RequirementsError(
                f"The requirements are too long ({len(text):,} characters); the limit is "
                f"{limits.max_text_chars:,}. Paste only the part that lists the requirements, or split them "
                "into several projects."
            )
    elif len(data) > limits.document.max_bytes:
        raise RequirementsError(
            f"{name} is too large ({len(data):,} bytes); the limit is {limits.document.max_bytes:,} bytes. "
            "Upload a smaller file or paste the requirements as text."
        )
    chosen = tuple((str(key)[:200], str(value)[:20]) for key, value in list((columns or {}).items())[:40])
    answer = _run_in_child(_Job(limits=limits, text=text, filename=filename, data=data, columns=chosen), name)
    return ParsedRequirements(text=answer["text"], analysis=_analysis_from_json(answer))


def _slots_for(limits: IntakeLimits) -> threading.BoundedSemaphore:
    size = max(1, limits.concurrency)
    with _slots_lock:
        return _slots.setdefault(size, threading.BoundedSemaphore(size))


def _run_in_child(job: _Job, name: str) -> dict[str, Any]:
    slots = _slots_for(job.limits)
    if not slots.acquire(timeout=job.limits.wall_seconds):
        raise RequirementsError(
            "We are analysing other documents right now and could not start on yours. Nothing was lost: "
            "submit it again in a minute."
        )
    try:
        return _run_child(job, name)
    finally:
        slots.release()


def _run_child(job: _Job, name: str) -> dict[str, Any]:
    limits = job.limits
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child_main, args=(sender, job), name="hive-intake", daemon=True)
    started = time.monotonic()
    process.start()
    sender.close()  # the child holds the only writing end: its death reads as end of file
    raw: bytes | None = None
    try:
        if receiver.poll(limits.wall_seconds):
            raw = receiver.recv_bytes(limits.max_answer_bytes)
    except EOFError:
        raw = None  # the child died without answering (CPU limit, killed)
    except OSError:  # an answer over max_answer_bytes
        logger.warning("intake: answer for %s over %d bytes", name, limits.max_answer_bytes)
        raise RequirementsError(
            f"{name} holds more than can be analysed at once. Split it into smaller parts."
        ) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
        exitcode = process.exitcode
        if exitcode is not None:  # close() refuses a process that has not been reaped yet
            process.close()
    elapsed = time.monotonic() - started
    if raw is None:
        logger.warning("intake: parsing %s stopped after %.1f s (exit code %s)", name, elapsed, exitcode)
        simpler = "Upload a simpler file — plain text or a .docx — or paste the requirements."
        if exitcode == -signal.SIGXCPU:
            seconds = f"{limits.cpu_seconds} second{'' if limits.cpu_seconds == 1 else 's'}"
            raise RequirementsError(
                f"Analysing {name} needed more than {seconds} of processing; it was refused. " + simpler
            )
        if elapsed >= limits.wall_seconds:
            raise RequirementsError(
                f"{name} took too long to analyse (the limit is {limits.wall_seconds:g} seconds) and was refused. "
                + simpler
            )
        raise RequirementsError(f"{name} could not be analysed. Upload it as plain text or paste the requirements.")
    try:
        answer = json.loads(raw)
    except ValueError:
        logger.error("intake: unreadable answer for %s (%d bytes)", name, len(raw))
        answer = {"error": "unreadable answer"}
    if "refused" in answer and isinstance(answer.get("header"), list):
        raise UnrecognisedColumns(str(answer["refused"]), tuple(str(cell)[:200] for cell in answer["header"][:40]))
    if "refused" in answer:
        raise RequirementsError(str(answer["refused"]))
    if "error" in answer:
        logger.error("intake: parsing %s failed in the child:\n%s", name, answer["error"])
        raise RequirementsError(f"{name} could not be analysed. Upload it as plain text or paste the requirements.")
    return dict(answer)


def _set_limits(limits: IntakeLimits) -> None:
    # The soft CPU limit sends SIGXCPU (which ends the process); the hard one a second later
    # SIGKILL, should anything catch the first.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child_main(connection: Connection, job: _Job) -> None:
    """Runs in the child: parse under the limits, answer one JSON message, exit."""
    _set_limits(job.limits)
    answer: dict[str, Any]
    out_of_memory = False
    try:
        answer = _parse(job)
    except UnrecognisedColumns as exc:
        answer = {"refused": str(exc), "header": list(exc.header)}
    except RequirementsError as exc:
        answer = {"refused": str(exc)}
    except MemoryError:
        out_of_memory = True  # answered below, once the frames holding the big objects are gone
        answer = {}
    except Exception:  # a parser bug: the parent logs it and refuses the input
        answer = {"error": traceback.format_exc(limit=20)}
    if out_of_memory:
        name = job.filename or "The requirements"
        memory = job.limits.memory_bytes // _MIB
        answer = {"refused": f"Analysing {name} needed more than {memory} MB of memory; it was refused."}
    # A PDF's broken character map can yield lone surrogates, which no database accepts.
    connection.send_bytes(json.dumps(answer, ensure_ascii=False).encode("utf-8", "replace"))
    connection.close()


def _parse(job: _Job) -> dict[str, Any]:
    limits = job.limits
    if job.data is not None:
        text = read_requirements_document(filename=job.filename or "upload", data=job.data, limits=limits.document)
    else:
        text = job.text
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > limits.max_line_chars:
        raise RequirementsError(
            f"{job.filename or 'The requirements'} has a line of {longest:,} characters; the limit is "
            f"{limits.max_line_chars:,}. Put each requirement on its own line."
        )
    analysis = analyse_requirements(text, max_stories=limits.max_stories, columns=dict(job.columns))
    return {
        "text": text,
        "stories": [_story_to_json(story) for story in analysis.stories],
        "context_features": _features_to_json(analysis.context_features),
        "non_functional": [item.to_json() for item in analysis.non_functional],
    }


def _story_to_json(story: UserStory) -> dict[str, Any]:
    return {
        "epic": story.epic,
        "title": story.title,
        "as_a": story.as_a,
        "i_want": story.i_want,
        "so_that": story.so_that,
        "priority": story.priority.value,
        "points": story.points,
        "acceptance_criteria": list(story.acceptance_criteria),
        "source": story.source,
    }


def _features_to_json(features: Features) -> dict[str, Any]:
    return {
        "integrations": [[i.name, i.kind.value, i.generic] for i in sorted(features.integrations)],
        "ai_ml": sorted(features.ai_ml),
        "real_time": sorted(features.real_time),
    }


def _analysis_from_json(answer: dict[str, Any]) -> RequirementsAnalysis:
    stories = tuple(
        UserStory(
            epic=str(s["epic"]),
            title=str(s["title"]),
            as_a=str(s["as_a"]),
            i_want=str(s["i_want"]),
            so_that=str(s["so_that"]),
            priority=Priority(s["priority"]),
            points=int(s["points"]),
            acceptance_criteria=tuple(str(c) for c in s["acceptance_criteria"]),
            source=str(s.get("source", "")),
        )
        for s in answer["stories"]
    )
    features = answer["context_features"]
    context = Features(
        integrations=frozenset(
            Integration(name=str(name), kind=IntegrationKind(kind), generic=bool(generic))
            for name, kind, generic in features["integrations"]
        ),
        ai_ml=frozenset(str(f) for f in features["ai_ml"]),
        real_time=frozenset(str(f) for f in features["real_time"]),
    )
    non_functional = tuple(NonFunctional.from_json(item) for item in answer.get("non_functional", []))
    return RequirementsAnalysis(stories=stories, context_features=context, non_functional=non_functional)
