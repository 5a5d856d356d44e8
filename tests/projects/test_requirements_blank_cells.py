"""Backlog spreadsheets as the tryout sent them: empty cells in any column, ordinary tables
without a role column, formula cells. Each parses or is refused with a message — never an
exception — and a refusal is printed on the page once."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Service
from projects.requirements import RequirementsError
from projects.scoping.intake_limits import IntakeLimits, requirements_parse
from tests.projects.portal import new_project, stories_of, text_of, url
from tests.world import World

LIMITS = IntakeLimits()
HEADER = ["Role", "Goal", "Benefit", "Priority", "Points"]
ROWS = [
    ["", "export invoices as PDF", "", "", ""],
    ["Buyers", "search products by name", "", "Must", ""],
    ["", "", "", "", "3"],
    ["Supplier", "upload a price list", "", "", ""],
]


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "encode"), [("backlog.csv", _csv), ("backlog.xlsx", _xlsx)])
def test_empty_cells_of_any_column_fall_back_like_other_forms(name: str, encode: object) -> None:
    assert callable(encode)
    parsed = requirements_parse(limits=LIMITS, filename=name, data=encode([HEADER, *ROWS]))

    assert [(s.as_a, s.i_want) for s in parsed.analysis.stories] == [
        ("user", "export invoices as PDF"),
        ("buyer", "search products by name"),
        ("supplier", "upload a price list"),
    ]


@pytest.mark.parametrize(
    ("table", "stories"),
    [
        ("Title,Description\nExport invoices,Buyers can export invoices as PDF\n", [("user", "export invoices")]),
        ("Story,Acceptance\nExport reports to PDF,works\n", [("user", "export reports to PDF")]),
        ("Requirement\nThe system must export invoices\n", [("user", "export invoices")]),
        ("Role,Goal,Benefit\nbuyer,pay by card,=1+1\n,+1,@x\n", [("buyer", "pay by card")]),
    ],
)
def test_ordinary_tables_parse(table: str, stories: list[tuple[str, str]]) -> None:
    parsed = requirements_parse(limits=LIMITS, filename="t.csv", data=table.encode())

    assert [(s.as_a, s.i_want) for s in parsed.analysis.stories] == stories
    assert all(not s.so_that.startswith(("=", "+", "@")) for s in parsed.analysis.stories)


@pytest.mark.parametrize("table", ["Role,Goal\n,=1+1\n,+1\n,@x\n", "Role,Goal\n,\nbuyer,\n"])
def test_a_table_of_formulas_or_blanks_is_refused_with_a_message(table: str) -> None:
    with pytest.raises(RequirementsError):
        requirements_parse(limits=LIMITS, filename="t.csv", data=table.encode())


@pytest.mark.django_db
def test_the_page_shows_a_refusal_once_and_an_empty_role_is_scoped(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)

    refused = SimpleUploadedFile("formulas.csv", b"Role,Goal\n,=1+1\n,+1\n")
    response = client.post(url("requirements_submit", project.pk), {"document": refused})

    assert response.status_code == 400
    page = text_of(response)
    assert page.count("No user stories were found.") == 1, page[:3000]
    errors = response.content.decode().count('class="errorlist nonfield"')
    assert errors == 1

    upload = SimpleUploadedFile("backlog.xlsx", _xlsx([HEADER, *ROWS]))
    response = client.post(url("requirements_submit", project.pk), {"document": upload})
    assert response.status_code == 302, text_of(response)[:2000]
    assert sorted(s.as_a for s in stories_of(project)) == ["buyer", "supplier", "user"]
