"""Requirements as customers send them (issue #17): backlog tables (Markdown, .docx, .csv, .xlsx),
prose briefs, non-functional requirements, lists whose items begin with their role, and the one
story sentence. Files go through the bounded child (`requirements_parse`) as uploads do."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from billing.catalog import MvpTierCode
from projects.requirements import (
    NfrKind,
    Priority,
    RequirementsAnalysis,
    RequirementsError,
    UnrecognisedColumns,
    analyse_requirements,
    make_story,
    story_sentence,
)
from projects.scoping.documents import read_requirements_document
from projects.scoping.intake_limits import IntakeLimits, requirements_parse
from projects.scoping.scope import Scope, scope_mvp, scope_requirements, scopes_without_each

FIXTURES = Path(__file__).parent / "fixtures" / "requirements"
LIMITS = IntakeLimits()

HEADER = ["Who", "What", "Why", "Priority", "Points", "Acceptance", "Status"]
ROWS = [
    ["Buyer", "search products by name", "I find parts quickly", "Must", "3", "partial names match", ""],
    ["Buyer", "see tiered prices", "I know what I pay", "M", "2", "tiers per quantity; shown with VAT", ""],
    ["Supplier", "upload a price list", "prices stay current", "Should", "5", "", ""],
    ["Buyer", "place an order from the cart", "I buy in one go", "Must", "3", "", ""],
    ["Supplier", "accept or decline an order", "I ship what I have", "Must", "2", "", ""],
    ["Operator", "approve new suppliers", "only real companies sell", "Could", "", "", ""],
    ["Buyer", "reorder a previous order", "repeat purchases are fast", "Should", "2", "", ""],
    ["Buyer", "download invoices as PDF", "my accounts have them", "Should", "2", "", ""],
    ["", "", "", "", "", "", ""],
    ["Buyer", "pay in instalments", "large orders are affordable", "Could", "8", "", "Out of scope"],
    ["Buyer", "use a native iPhone app", "I order on the road", "Won't", "13", "", ""],
]


def _scope(analysis: RequirementsAnalysis) -> Scope:
    return scope_requirements(analysis)


def _price(scope: Scope) -> int | None:
    return scope.price_cents


# --- Markdown tables -----------------------------------------------------------------------------


def test_a_markdown_backlog_table_is_one_story_per_row_without_its_out_of_scope_blank_and_header_rows() -> None:
    analysis = analyse_requirements((FIXTURES / "tradehub_table.md").read_text())
    stories = analysis.stories
    assert len(stories) == 17  # 20 rows: a repeated header, a blank, an "Out of scope" and a "Won't" row are not
    assert {s.as_a for s in stories} == {"buyer", "supplier", "operator"}
    assert [s.as_a for s in stories].count("buyer") == 9
    first = stories[0]
    assert first.sentence == (
        "As a buyer, I want to search products by name or part number, so that I find parts quickly."
    )
    assert (first.epic, first.priority, first.points) == ("Catalogue", Priority.MUST, 3)
    assert first.acceptance_criteria == ("results in under a second", "partial numbers match")
    assert "instalments" not in " ".join(s.i_want for s in stories)
    assert "iPhone" not in " ".join(s.i_want for s in stories)
    scope = _scope(analysis)
    assert scope.tier is not None and scope.tier.code is MvpTierCode.STANDARD
    assert _price(scope) == 150_000_00
    assert scope.reasons[0] == "17 stories exceed the Simple MVP limit of 15."


def test_a_table_whose_columns_cannot_be_recognised_names_its_header_row_and_the_names_it_knows() -> None:
    text = "| Ref | Text | Owner |\n|---|---|---|\n| 1 | buyers pay | Ann |\n| 2 | sellers ship | Bob |\n"
    with pytest.raises(RequirementsError) as refused:
        analyse_requirements(text)
    message = str(refused.value)
    assert "“Ref | Text | Owner”" in message
    assert "“I want” (or What, Story, Goal)" in message and "“As a” (or Who, Role)" in message


def test_the_customers_answer_to_which_column_is_which_reads_the_table() -> None:
    text = "| Ref | Text | Group |\n|---|---|---|\n| 1 | pay by card | buyers |\n| 2 | ship orders | sellers |\n"
    with pytest.raises(UnrecognisedColumns) as refused:
        requirements_parse(limits=LIMITS, text=text)  # the header comes back from the child
    assert refused.value.header == ("Ref", "Text", "Group")
    columns = {"ref": "ignore", "TEXT": "goal", "Group": "role"}
    stories = requirements_parse(limits=LIMITS, text=text, columns=columns).analysis.stories
    assert [s.sentence for s in stories] == [
        "As a buyer, I want to pay by card.",
        "As a seller, I want to ship orders.",
    ]


def test_story_sentences_in_a_table_without_a_header_are_still_read() -> None:
    text = (
        "| ID | Story |\n|---|---|\n| 1 | As a buyer, I want to pay by card so that I can check out. |\n"
        "| 2 | As a seller, I want to ship orders. |\n"
    )
    stories = analyse_requirements(text).stories
    assert [s.as_a for s in stories] == ["buyer", "seller"]


# --- Word, CSV and Excel backlogs, through the bounded child -------------------------------------


def _docx_with_table(rows: list[list[str]]) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Backlog", level=1)
    document.add_paragraph("Our backlog, as agreed in the workshop.")
    table = document.add_table(rows=0, cols=len(HEADER))
    for row in [HEADER, *rows]:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows([HEADER, *rows])
    return buffer.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Backlog"
    sheet.append(header)
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _assert_the_eight_story_backlog(analysis: RequirementsAnalysis) -> None:
    stories = analysis.stories
    assert len(stories) == 8
    assert [s.as_a for s in stories] == [
        "buyer",
        "buyer",
        "supplier",
        "buyer",
        "supplier",
        "operator",
        "buyer",
        "buyer",
    ]
    assert stories[1].sentence == "As a buyer, I want to see tiered prices, so that I know what I pay."
    assert stories[1].priority is Priority.MUST and stories[1].points == 2
    assert stories[1].acceptance_criteria == ("tiers per quantity", "shown with VAT")
    assert stories[5].sentence == "As an operator, I want to approve new suppliers, so that only real companies sell."
    assert stories[5].priority is Priority.COULD
    scope = _scope(analysis)
    assert scope.tier is not None and scope.tier.code is MvpTierCode.SIMPLE and _price(scope) == 75_000_00


def test_a_docx_with_a_backlog_table_is_read_row_by_row() -> None:
    parsed = requirements_parse(limits=LIMITS, filename="Backlog.docx", data=_docx_with_table(ROWS))
    _assert_the_eight_story_backlog(parsed.analysis)


def test_a_csv_backlog_is_read_row_by_row_whatever_its_delimiter_and_encoding() -> None:
    parsed = requirements_parse(limits=LIMITS, filename="backlog.csv", data=_csv(ROWS))
    _assert_the_eight_story_backlog(parsed.analysis)
    # Excel on Windows: semicolons, Windows-1252.
    accented = [[*ROWS[0][:2], "I find parts quickly – café suppliers too", *ROWS[0][3:]], *ROWS[1:]]
    windows = requirements_parse(
        limits=LIMITS, filename="backlog.csv", data=_csv(accented, delimiter=";", encoding="cp1252")
    )
    _assert_the_eight_story_backlog(windows.analysis)
    assert windows.analysis.stories[0].so_that == "I find parts quickly – café suppliers too"


def test_an_xlsx_backlog_is_read_in_the_child_and_a_chat_story_decides_the_tier() -> None:
    rows: list[list[object]] = [[*row[:4], int(row[4]) if row[4] else None, *row[5:]] for row in ROWS]
    rows.insert(3, ["Buyer", "chat with a supplier about an order", "questions get answered", "Should", 3, "", ""])
    parsed = requirements_parse(limits=LIMITS, filename="Backlog.xlsx", data=_xlsx(rows))
    stories = parsed.analysis.stories
    assert len(stories) == 9 and stories[0].points == 3
    scope = _scope(parsed.analysis)
    assert scope.tier is not None and scope.tier.code is MvpTierCode.COMPLEX and _price(scope) == 300_000_00
    assert scope.drivers == ("Chat with a supplier about an order",)
    assert "from 1 story: “Chat with a supplier about an order”" in scope.reasons[0]
    # Dropping the driving story would halve the price: shown before it is saved.
    without = scopes_without_each(stories)
    assert without[3] is not None and without[3].price_cents == 75_000_00
    assert all(other is not None and other.price_cents == 300_000_00 for i, other in enumerate(without) if i != 3)


def test_a_hostile_xlsx_is_refused_before_openpyxl_expands_it() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (60 * 1024 * 1024) + b"/>")
    with pytest.raises(RequirementsError, match="expands to far more data than a backlog holds"):
        requirements_parse(limits=LIMITS, filename="bomb.xlsx", data=buffer.getvalue())


def test_a_damaged_spreadsheet_gets_a_message_not_a_traceback() -> None:
    with pytest.raises(RequirementsError, match=r"could not be read as an Excel workbook \(\.xlsx\)"):
        requirements_parse(limits=LIMITS, filename="broken.xlsx", data=b"PK\x03\x04 not really a zip")
    with pytest.raises(RequirementsError, match="not a CSV file"):
        read_requirements_document(filename="binary.csv", data=b"a,b\x00,c")
    wide = ",".join(f"c{n}" for n in range(60)).encode()
    with pytest.raises(RequirementsError, match="more than 40 columns"):
        read_requirements_document(filename="wide.csv", data=wide)
    far: list[object] = ["x" for _ in range(7)]
    far += ["" for _ in range(50)] + ["far away"]
    wide_sheet = _xlsx([far])
    with pytest.raises(RequirementsError, match="more than 40 columns"):
        requirements_parse(limits=LIMITS, filename="wide.xlsx", data=wide_sheet)


# --- Prose briefs and non-functional requirements -------------------------------------------------


def test_a_prose_brief_gives_a_story_per_capability_of_a_named_user_and_keeps_the_nfrs() -> None:
    analysis = analyse_requirements((FIXTURES / "partsdirect_brief.txt").read_text())
    stories = analysis.stories
    assert [s.sentence for s in stories] == [
        "As a buyer, I want to search the catalogue by part number.",
        "As a buyer, I want to reorder from my order history.",
        "As a buyer, I want to see my negotiated prices when they are logged in.",
        "As an account manager, I want to see every order of my customers, so that I can follow up.",
        "As a member of the warehouse staff, I want to print a picking list for each order.",
        "As a member of the finance team, I want to export the day's orders to CSV, so that I can import them "
        "into the ERP.",
    ]
    # Each story shows the sentence it came from; background and delivery constraints are no story.
    assert stories[0].source == "Buyers must be able to search the catalogue by part number."
    taken = " ".join(s.source for s in stories)
    for background in ("founded in 1998", "trade fair", "budget", "forty employees", "web portal"):
        assert background not in taken
    kinds = [(n.kind, n.text) for n in analysis.non_functional]
    assert kinds == [
        (NfrKind.PERFORMANCE, "Pages must load in under 1.5 seconds on mobile"),
        (NfrKind.DATA_LOCATION, "Data stays in the EU"),
        (NfrKind.LANGUAGES, "The UI must be available in English and German"),
        (NfrKind.SCALE, "We expect 300 suppliers and 5,000 buyers"),
    ]
    performance, location, languages, _ = analysis.non_functional
    assert performance.page_load_seconds == Decimal("1.5")
    assert location.region == "EU" and languages.languages == ("English", "German")
    scope = _scope(analysis)
    assert scope.tier is not None and scope.tier.code is MvpTierCode.SIMPLE and _price(scope) == 75_000_00


def test_nfr_lines_in_a_list_are_not_stories() -> None:
    analysis = analyse_requirements(
        "## Shop\n\n- Buyers can pay by card\n- Pages load in under 2 seconds\n- 99.9% uptime\n"
        "- GDPR compliant\n- English and German UI\n"
    )
    assert [s.sentence for s in analysis.stories] == ["As a buyer, I want to pay by card."]
    assert [n.kind for n in analysis.non_functional] == [
        NfrKind.PERFORMANCE,
        NfrKind.AVAILABILITY,
        NfrKind.COMPLIANCE,
        NfrKind.LANGUAGES,
    ]


# --- Lists whose items begin with their role, plain-text headings ---------------------------------


def test_list_items_take_their_role_from_their_subject_and_plain_headings_are_epics() -> None:
    analysis = analyse_requirements((FIXTURES / "stallmarket_roles.md").read_text())
    stories = analysis.stories
    assert len(stories) == 8
    assert [s.as_a for s in stories] == [
        "organiser",
        "organiser",
        "stall owner",
        "operator",
        "organiser",
        "stall owner",
        "organiser",
        "organiser",
    ]
    assert stories[0].sentence == "As an organiser, I want to browse stalls by cuisine and area."
    assert stories[3].sentence == "As an operator, I want to approve new stalls before they are listed."
    assert [s.epic for s in stories] == ["Catalogue"] * 4 + ["Bookings"] * 4
    scope = _scope(analysis)
    # A marketplace's payouts (Stripe Connect) are a second integration next to card payments.
    assert scope.features.integration_names == ("Google Maps", "SendGrid", "Stripe", "Stripe Connect")
    assert scope.tier is not None and scope.tier.code is MvpTierCode.STANDARD and _price(scope) == 150_000_00


def test_the_existing_styles_keep_their_counts() -> None:
    expected = {"pawwalk_10_stories.md": 10, "fieldfix_25_stories.md": 25, "clinicflow_45_stories.txt": 45}
    for name, count in expected.items():
        assert len(analyse_requirements((FIXTURES / name).read_text()).stories) == count, name


# --- The story sentence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_a", "i_want", "so_that", "sentence"),
    [
        ("pet owner", "create an account", "", "As a pet owner, I want to create an account."),
        ("operator", "approve listings", "", "As an operator, I want to approve listings."),
        ("user", "export data", "", "As a user, I want to export data."),
        ("hourly worker", "log hours", "I get paid", "As an hourly worker, I want to log hours, so that I get paid."),
        (
            "planner",
            "appointments to sync with Google Calendar",
            "",
            "As a planner, I want appointments to sync with Google Calendar.",
        ),
        ("admin", "a weekly report", "", "As an admin, I want a weekly report."),
        ("support team", "see open tickets", "", "As a member of the support team, I want to see open tickets."),
        (
            "buyer",
            "to see tiered prices.",
            "I can compare.",
            "As a buyer, I want to see tiered prices, so that I can compare.",
        ),
    ],
)
def test_the_story_sentence_has_one_grammar(as_a: str, i_want: str, so_that: str, sentence: str) -> None:
    assert story_sentence(as_a, i_want, so_that) == sentence


def test_long_titles_are_kept_whole() -> None:
    goal = "see every order of every customer of my region with its status, its delivery date and its invoice total"
    story = make_story(as_a="account manager", i_want=goal)
    assert story.title == goal[0].upper() + goal[1:] and "…" not in story.title


def test_a_tier_change_on_dropping_is_known_for_each_story() -> None:
    stories = [make_story(as_a="buyer", i_want=f"see page {n}") for n in range(3)]
    stories.append(make_story(as_a="buyer", i_want="chat live with the seller"))
    assert scope_mvp(stories).price_cents == 300_000_00
    prices = [other.price_cents if other else None for other in scopes_without_each(stories)]
    assert prices == [300_000_00, 300_000_00, 300_000_00, 75_000_00]
