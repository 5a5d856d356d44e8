"""projects/intake_limits.py: requirements parsed in a child process under CPU, memory and
wall-clock limits, with the same result as parsing in-process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from projects.requirements import RequirementsError, analyse_requirements
from projects.scoping.documents import DocumentLimits, read_requirements_document
from projects.scoping.intake_limits import IntakeLimits, requirements_parse
from tests.projects.test_documents import docx_from_markdown, pdf_from_text

FIXTURES = Path(__file__).parent / "fixtures" / "requirements"
MANY_BULLETS = "".join(f"- Customers can manage booking {n}\n" for n in range(20_000))


@pytest.mark.parametrize(
    ("filename", "build"),
    [
        ("harvest.md", lambda text: text.encode()),
        ("harvest.docx", docx_from_markdown),
        ("harvest.pdf", pdf_from_text),
    ],
    ids=["markdown", "docx", "pdf"],
)
def test_it_reads_a_document_in_the_child_exactly_as_in_process(filename: str, build: object) -> None:
    markdown = (FIXTURES / "harvest_60_stories.md").read_text(encoding="utf-8")
    data = build(markdown)  # type: ignore[operator]

    parsed = requirements_parse(limits=IntakeLimits(), filename=filename, data=data)

    text = read_requirements_document(filename=filename, data=data)
    assert parsed.text == text
    assert parsed.analysis == analyse_requirements(text)
    assert len(parsed.analysis.stories) >= 60


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir()))
def test_it_analyses_pasted_text_in_the_child_exactly_as_in_process(fixture: str) -> None:
    text = (FIXTURES / fixture).read_text(encoding="utf-8")

    parsed = requirements_parse(limits=IntakeLimits(), text=text)

    assert parsed.text == text
    assert parsed.analysis == analyse_requirements(text)


def test_a_parse_over_the_cpu_limit_is_refused() -> None:
    limits = IntakeLimits(cpu_seconds=1, wall_seconds=60, max_stories=1_000_000)
    started = time.monotonic()

    with pytest.raises(RequirementsError, match=r"^Analysing The requirements needed more than 1 second of processing"):
        requirements_parse(limits=limits, text=MANY_BULLETS)  # more than 10 s of work in-process

    assert time.monotonic() - started < 30  # one CPU second: wall time depends on the machine's load


def test_a_parse_over_the_wall_clock_is_killed_at_the_deadline() -> None:
    limits = IntakeLimits(cpu_seconds=60, wall_seconds=1.5, max_stories=1_000_000)
    started = time.monotonic()

    with pytest.raises(RequirementsError, match=r"took too long to analyse \(the limit is 1.5 seconds\)"):
        requirements_parse(limits=limits, text=MANY_BULLETS)

    assert 1.5 <= time.monotonic() - started < 5


def test_a_parse_over_the_memory_limit_is_refused() -> None:
    limits = IntakeLimits(memory_bytes=48 * 1024 * 1024, max_stories=1_000_000)

    with pytest.raises(RequirementsError, match=r"^Analysing The requirements needed more than 48 MB of memory"):
        requirements_parse(limits=limits, text=MANY_BULLETS)


def test_the_story_cap_is_applied_in_the_child() -> None:
    with pytest.raises(RequirementsError, match=r"more than 500 user stories; the limit is 500\."):
        requirements_parse(limits=IntakeLimits(), text=MANY_BULLETS)


def test_pasted_text_over_the_length_cap_is_refused_without_a_child() -> None:
    # No time at all to parse: only a refusal that needs no child can pass.
    limits = IntakeLimits(max_text_chars=1_000, wall_seconds=0.000_001)

    with pytest.raises(RequirementsError, match=r"too long \(1,001 characters\); the limit is 1,000\."):
        requirements_parse(limits=limits, text="x" * 1_001)


def test_a_line_over_the_cap_is_refused_before_the_analysis() -> None:
    text = "- Users can log in " + "word " * 190_000

    started = time.monotonic()
    with pytest.raises(RequirementsError, match=r"has a line of 950,019 characters; the limit is 20,000\."):
        requirements_parse(limits=IntakeLimits(), text=text)

    assert time.monotonic() - started < 5  # the analyser alone takes ~10 s on this line


def test_a_document_gets_the_limits_it_is_given() -> None:
    limits = IntakeLimits(document=DocumentLimits(max_pdf_pages=3))
    pdf = pdf_from_text("\n".join(f"- Users can do thing {n}" for n in range(200)))

    with pytest.raises(RequirementsError, match=r"^reqs.pdf has 5 pages; the limit is 3\."):
        requirements_parse(limits=limits, filename="reqs.pdf", data=pdf)


def test_limits_come_from_settings(settings: pytest.FixtureRequest) -> None:
    settings.HIVE_INTAKE_MAX_STORIES = 7  # type: ignore[attr-defined]
    settings.HIVE_INTAKE_MAX_DOCX_PARAGRAPHS = 9  # type: ignore[attr-defined]
    settings.HIVE_REQUIREMENTS_UPLOAD_MAX_BYTES = 1234  # type: ignore[attr-defined]

    limits = IntakeLimits.from_settings()

    assert limits.max_stories == 7
    assert limits.document.max_docx_paragraphs == 9
    assert limits.document.max_bytes == 1234


def test_submissions_over_the_concurrency_wait_for_a_turn_then_are_refused() -> None:
    slow = IntakeLimits(concurrency=1, cpu_seconds=60, wall_seconds=4, max_stories=1_000_000)
    impatient = IntakeLimits(concurrency=1, wall_seconds=1)
    outcome: list[str] = []

    def hold_the_turn() -> None:
        try:
            requirements_parse(limits=slow, text=MANY_BULLETS)
        except RequirementsError as exc:
            outcome.append(str(exc))

    first = threading.Thread(target=hold_the_turn)
    first.start()
    time.sleep(0.3)
    try:
        started = time.monotonic()
        with pytest.raises(RequirementsError, match=r"^We are analysing other documents right now"):
            requirements_parse(limits=impatient, text="- Users can log in\n")
        assert 1 <= time.monotonic() - started < 3
    finally:
        first.join(10)
    assert not first.is_alive()
    # On a fast machine the long parse may finish inside its 4 s; when it does not, it is stopped.
    assert not outcome or "took too long" in outcome[0], outcome
    # The turn is free again once the first one ended.
    assert len(requirements_parse(limits=impatient, text="- Users can log in\n").analysis.stories) == 1


def test_lone_surrogates_from_a_broken_document_come_back_replaced() -> None:
    parsed = requirements_parse(limits=IntakeLimits(), text="- Users can log in \ud800 today\n")

    assert parsed.analysis.stories[0].i_want == "log in ? today"
    parsed.text.encode("utf-8")  # what the database will be given encodes
