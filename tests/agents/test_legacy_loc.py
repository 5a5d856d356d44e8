"""Line counts of the legacy analyser (agents/legacy/loc.py, sources.py)."""

from __future__ import annotations

import os
from pathlib import Path

from agents.legacy.languages import (
    COBOL,
    CSS,
    HTML,
    JAVA,
    JAVASCRIPT,
    PYTHON,
    RUBY,
    SHELL,
    SQL,
    language_for,
)
from agents.legacy.loc import LineCounts, loc_by_language, scan_file, scan_source
from agents.legacy.sources import collect_sources

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_app"


def test_it_counts_a_python_file_as_counted_by_hand() -> None:
    # Counted by hand on `cat -n shop/money.py` (40 lines):
    # blank 2 5 7 10 12 13 16 22 28 33 36 37 -> 12 (line 2 is blank inside the docstring);
    # comment 1 3 4 (module docstring) 8 (comment) 15 30 (docstrings) 24 (comment) -> 7;
    # code: the other 21, including 11 (a "#" inside a string) and 38-40 (a multi-line string
    # assigned to a name is code, not a docstring).
    source = (FIXTURE / "shop" / "money.py").read_text()
    assert scan_source(source, PYTHON).counts == LineCounts(blank=12, comment=7, code=21)


def test_it_counts_a_javascript_file_as_counted_by_hand() -> None:
    # Counted by hand on `cat -n web/static/api.js` (22 lines): blank 5 14 -> 2;
    # comment 1-3 (block) 7 15 -> 5; code: the other 15, including 4 ("//" inside a string
    # followed by a real comment) and 12 (code followed by a block comment).
    source = (FIXTURE / "web" / "static" / "api.js").read_text()
    assert scan_source(source, JAVASCRIPT).counts == LineCounts(blank=2, comment=5, code=15)


def test_it_keeps_code_and_drops_comments_and_string_contents() -> None:
    scanned = scan_source('x = "a /* b */" + y; /* c */ z();\n', JAVA)
    assert scanned.counts == LineCounts(code=1)
    assert scanned.code_lines == ('x = "" + y;  z();',)


def test_it_follows_block_comments_and_template_strings_across_lines() -> None:
    source = "/* one\n\n   two */ a();\nconst t = `\n// inside\n`;\n"
    # line 2 is blank even inside the comment; line 3 has code after the comment ends.
    assert scan_source(source, JAVASCRIPT).counts == LineCounts(blank=1, comment=1, code=4)


def test_it_treats_python_string_statements_as_comments_but_not_assigned_strings() -> None:
    source = 'def f():\n    """Doc\n    string."""\n    x = """not\n    doc"""\n    return x\n'
    assert scan_source(source, PYTHON).counts == LineCounts(comment=2, code=4)


def test_it_falls_back_to_the_generic_scanner_for_python_tokenize_rejects() -> None:
    source = "def f():\n\tif x:\n        return 1  # mixed\n  return 2\n# end\n"
    assert scan_source(source, PYTHON).counts == LineCounts(comment=1, code=4)


def test_it_reads_cobol_fixed_form() -> None:
    source = (
        "000100 IDENTIFICATION DIVISION.\n"
        "000200* A COMMENT IN COLUMN 7\n"
        "000300/ A PAGE-EJECT COMMENT\n"
        "000400\n"
        "000500 PROCEDURE DIVISION.\n"
        '000600     DISPLAY "*> NOT A COMMENT". *> INLINE\n'
        "000700     *> A FREE-FORM COMMENT LINE\n"
    )
    assert scan_source(source, COBOL).counts == LineCounts(blank=1, comment=3, code=3)


def test_it_counts_sql_shell_ruby_html_and_css() -> None:
    sql = "-- report\nSELECT '--not' FROM t; /* x */\n/* a\n b */\n"
    assert scan_source(sql, SQL).counts == LineCounts(comment=3, code=1)
    shell = "#!/bin/sh\necho $# # args\n\n# done\n"
    assert scan_source(shell, SHELL).counts == LineCounts(blank=1, comment=2, code=1)
    ruby = "# c\n=begin\ndoc\n=end\nputs 'x#y'\n"
    assert scan_source(ruby, RUBY).counts == LineCounts(comment=4, code=1)
    html = "<!-- a\nb -->\n<p>don't</p>\n"
    assert scan_source(html, HTML).counts == LineCounts(comment=2, code=1)
    css = "/* c */\na { color: red; }\n"
    assert scan_source(css, CSS).counts == LineCounts(comment=1, code=1)


def test_it_recognises_languages_by_extension_and_ignores_generated_files() -> None:
    assert language_for("a/b.py") is PYTHON
    assert language_for("a/B.JAVA") is JAVA
    assert language_for("x.cbl") is COBOL
    assert language_for("vendor.min.js") is None
    assert language_for("README.md") is None


def test_it_skips_vendored_generated_binary_and_linked_files(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    for skipped in ("node_modules", ".git", "__pycache__", "dist"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "hidden.py").write_text("y = 2\n")
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "env" / "site.py").write_text("z = 3\n")
    (tmp_path / "blob.py").write_bytes(b"\x00\x01binary")
    (tmp_path / "notes.txt").write_text("not code\n")
    (tmp_path / "bundle.min.js").write_text("var a=1;\n")
    os.symlink(tmp_path / "app.py", tmp_path / "link.py")

    tree = collect_sources(tmp_path)

    assert [source.path for source in tree.files] == ["app.py"]
    reasons = {skipped.path: skipped.reason for skipped in tree.skipped}
    assert reasons == {"blob.py": "binary content", "link.py": "symbolic link, not followed"}
    assert tree.ignored_files == 2


def test_it_decodes_latin1_legacy_files(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_bytes("# caf\xe9\nx = 1\n".encode("latin-1"))
    (source,) = collect_sources(tmp_path).files
    assert scan_file(source).counts == LineCounts(comment=1, code=1)


def test_it_sums_lines_per_language_on_the_fixture() -> None:
    tree = collect_sources(FIXTURE)
    rows = {row.language: row for row in loc_by_language((s, scan_file(s)) for s in tree.files)}
    assert set(rows) == {"Python", "JavaScript", "Java"}
    assert rows["Python"].files == 19
    assert rows["JavaScript"].files == 2
    assert rows["Java"].files == 2
    python_lines = sum(len(path.read_text().splitlines()) for path in (FIXTURE / "shop").rglob("*.py")) + sum(
        len(path.read_text().splitlines()) for path in (FIXTURE / "batch").rglob("*.py")
    )
    python = rows["Python"]
    assert python.blank + python.comment + python.code == python_lines
