"""Customer text never becomes code or markup in what the built-in agents generate
(agents/appgen/render.py, agents/work/*.py, agents/quoting.py).

A project named ``P\"\"\";exec(open("payload.py").read())#`` once closed the docstring of the
generated ``app/__init__.py`` and ran ``payload.py`` in every test run, review and preview. Here
that name goes through a real story task (generation, the sandboxed test run, commit and reviewed
merge), and a list of hostile names goes through every generator: each Python file must compile,
each JSON and YAML file parse, each Markdown file render without markup of its own, and the name
must come back out as the same data.
"""

from __future__ import annotations

import ast
import html
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.utils import timezone
from markdown_it import MarkdownIt

from agents.appgen import design_story, generate
from agents.providers import JobContext, JobSpec, Outcome
from agents.providers.builtin import BuiltinProvider
from agents.quoting import md_block, md_inline, py_comment, py_docstring
from agents.workspace import Workspace, WorkspaceError
from tests.team_remote import team_remote

PAYLOAD_NAME = 'P""";exec(open("payload.py").read())#'
MARKER = "PAYLOAD-RAN"
# The attacker's file, as it could reach a tree (a model's write, an upload): it leaves a marker
# beside itself, in the tree, so the marker shows whatever the sandbox allows elsewhere.
PAYLOAD = f"open({MARKER!r}, 'w').write('the project name ran as code')\n"

HOSTILE_NAMES = [
    PAYLOAD_NAME,
    '"""',
    "'''",
    'ends with a quote"',
    "trailing backslash \\",
    "back\\slash \\n \\x00 \\N{BULLET} \\u2028",
    "two\nlines\n# heading\n---\nkey: value",
    "carriage\r\nreturn and \x0c form feed",
    "line\u2028separator\u2029paragraph",
    "{} {{ }} {0} {name!r} %s %(prog)s %%",
    "N" * 10_000,
    "Société Générale — 株式会社 😀",
    "</script><script>alert(1)</script><!-- & &amp;",
    "| table | cell |\n- [x] done\n1. one\n> quote `code` *em* _em_ [link](javascript:alert(1)) ![img](x)",
]
IDS = [
    "payload",
    "triple-double",
    "triple-single",
    "end-quote",
    "end-backslash",
    "escapes",
    "newlines",
    "crlf",
    "u2028",
    "braces-percent",
    "10k",
    "non-ascii",
    "script",
    "markdown",
]


def _markdown_text(text: str) -> str:
    """What a Markdown line of ``text`` must read as once rendered: line breaks become spaces,
    and the characters no file should hold become spaces too."""
    rendered = md_inline(text)
    assert "\n" not in rendered
    return " ".join(html.unescape(MarkdownIt().renderInline(rendered)).split())


# --- the escapers themselves -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [*HOSTILE_NAMES, "\x00nul \ud800 lone surrogate \ufeff", ""], ids=[*IDS, "nul", "empty"]
)
def test_a_docstring_holds_any_text_exactly(text: str) -> None:
    source = f"{py_docstring(text)}\n\nVALUE = 1\n"
    module = ast.parse(source)
    assert ast.get_docstring(module, clean=False) == text
    assert [type(node).__name__ for node in module.body] == ["Expr", "Assign"]  # nothing else became code
    source.encode("utf-8")  # writable as a file


@pytest.mark.parametrize("text", [*HOSTILE_NAMES, "\x00nul \ud800"], ids=[*IDS, "nul"])
def test_a_comment_holds_any_text_without_leaving_it(text: str) -> None:
    source = f"{py_comment(text)}\nVALUE = 1\n"
    module = ast.parse(source)
    assert [type(node).__name__ for node in module.body] == ["Assign"]
    assert all(line.startswith("#") for line in source.splitlines()[:-1])


@pytest.mark.parametrize("text", HOSTILE_NAMES, ids=IDS)
def test_markdown_shows_the_text_and_no_markup(text: str) -> None:
    block = MarkdownIt("commonmark").enable("table").render(f"# Title\n\n{md_block(text)}\n")
    inline = MarkdownIt("commonmark").enable("table").render(f"# Of {md_inline(text)}\n")
    for rendered in (block, inline):
        assert "<script" not in rendered and "<a " not in rendered and "<img" not in rendered
        assert "<table" not in rendered and "<li" not in rendered and "<blockquote" not in rendered
        assert "<h2" not in rendered and "<hr" not in rendered and "<em" not in rendered
    assert inline.count("<h1>") == 1 and inline.rstrip().endswith("</h1>")
    heading = inline.strip().removeprefix("<h1>").removesuffix("</h1>")
    expected = " ".join(_markdown_text(text).split())
    assert " ".join(html.unescape(heading).split()) == f"Of {expected}"


# --- the application generator -----------------------------------------------------------------


def _story(number: int, text: str) -> dict[str, Any]:
    return {
        "number": number,
        "title": f"Products {text}",
        "sentence": f"As a shop owner, I want to add products with a price, so that {text}",
        "i_want": "to add products with a price",
        "acceptance_criteria": [text, f"products are listed {text}"],
    }


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=IDS)
def test_every_generated_python_file_compiles_and_keeps_the_name_as_data(tmp_path: Path, name: str) -> None:
    designs = [design_story(_story(1, name)), design_story({**_story(2, name), "i_want": "to sign up"})]
    files = generate(tmp_path, name, designs)
    for relative in files:
        source = (tmp_path / relative).read_text("utf-8")
        if relative.endswith(".py"):
            compile(source, relative, "exec")
        elif relative.endswith(".json"):
            json.loads(source)
    package = ast.parse((tmp_path / "app" / "__init__.py").read_text("utf-8"))
    assert [type(node).__name__ for node in package.body] == ["Expr", "Assign"]
    assert ast.get_docstring(package, clean=False) == (
        f"{name}: a web application generated from its user stories by Agent Hive's built-in developers."
    )
    [assignment] = [node for node in package.body if isinstance(node, ast.Assign)]
    assert ast.literal_eval(assignment.value) == name
    story = ast.get_docstring(ast.parse((tmp_path / "tests" / "test_story_001.py").read_text("utf-8")), clean=False)
    assert story is not None and f"Story 1: Products {name}\n" in story and f"\n- {name}\n" in story


def test_a_spec_rewritten_in_the_tree_cannot_name_code(tmp_path: Path) -> None:
    """Spec files live in the tree that tests run in; a rewritten one is refused, not generated."""
    from agents.appgen import spec_write, specs_read

    spec = spec_write(tmp_path, design_story(_story(1, "ok")))
    data = json.loads((tmp_path / spec).read_text())
    data["entity"] = "product import os; os.system('id') #"
    (tmp_path / spec).write_text(json.dumps(data))
    with pytest.raises(ValueError, match="cannot be generated"):
        specs_read(tmp_path)


def test_the_generator_writes_nothing_through_a_link_the_tree_planted(tmp_path: Path) -> None:
    """Code under test can swap a directory of its tree for a link to anywhere the worker may write;
    the host-side generator then refuses instead of writing (or deleting) there."""
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    generate(tree, "Shop", [design_story(_story(1, "ok"))])
    outside.mkdir()
    (outside / "keep.py").write_text("KEEP = 1\n")
    shutil.rmtree(tree / "app" / "entities")
    (tree / "app" / "entities").symlink_to(outside)

    with pytest.raises(WorkspaceError, match="symbolic link"):
        generate(tree, "Shop", [design_story(_story(1, "ok"))])

    assert sorted(p.name for p in outside.iterdir()) == ["keep.py"]


# --- through the built-in agents, end to end ------------------------------------------------------


class Agents:
    def __init__(self, home: Path, project: str) -> None:
        self.home, self.project = home, project
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.context = JobContext(
            workspace=home / "workspace",
            report=lambda kind, message, data=None: self.events.append((kind, message, dict(data or {}))),
            cancelled=lambda: False,
        )

    @property
    def workspace(self) -> Path:
        return self.home / "workspace"

    def run(self, role: str, key: str, **inputs: Any) -> Outcome:
        spec = JobSpec(role=role, key=key, title=f"{key} of {self.project}", inputs={"project": self.project, **inputs})
        return BuiltinProvider().run(spec, self.context)

    def show(self, path: str, ref: str = "main") -> subprocess.CompletedProcess[str]:
        git_dir = self.home / "repository.git"
        return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{ref}:{path}"], capture_output=True, text=True)


def test_a_story_of_a_project_named_like_code_runs_its_tests_and_the_name_stays_data(tmp_path: Path) -> None:
    agents = Agents(tmp_path / "project", PAYLOAD_NAME)
    workspace = Workspace(agents.workspace)
    workspace.ensure(project=PAYLOAD_NAME, ignore="__pycache__/\n")
    (agents.workspace / "payload.py").write_text(PAYLOAD)
    _commit_on_main(agents.workspace)

    outcome = agents.run("fullstack_developer", "story", item=_story(1, "and they sell"))

    assert outcome.data["tests_passed"] > 0 and outcome.data["merge"]
    # The payload never ran: not in the sandboxed test run, not in the review of the merge.
    assert not (agents.workspace / MARKER).exists()
    assert agents.show(MARKER, outcome.data["branch"]).returncode != 0
    assert agents.show(MARKER).returncode != 0
    # The generated package compiles and holds the name as data, on main.
    source = agents.show("app/__init__.py").stdout
    package = ast.parse(source)
    [assignment] = [node for node in package.body if isinstance(node, ast.Assign)]
    assert ast.literal_eval(assignment.value) == PAYLOAD_NAME
    # The application itself shows exactly that name (HTML-escaped) on its pages.
    page = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json\nfrom app import NAME\nfrom app.entities import all_entities\nfrom app.web import App\n"
            "from tests.support import Client\n"
            "app = App(name=NAME, database=':memory:', entities=all_entities())\n"
            "print(json.dumps({'name': NAME, 'page': Client(app).get('/login').text}))",
        ],
        cwd=agents.workspace,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    shown = json.loads(page.stdout)
    assert shown["name"] == PAYLOAD_NAME
    assert html.escape(PAYLOAD_NAME) in shown["page"]
    assert not (agents.workspace / MARKER).exists()


def _commit_on_main(tree: Path) -> None:
    """Plain git, on the repository wherever the workspace keeps it (beside the tree; inside it in
    the layout before, so that this test can be run against that code too)."""
    git_dir = tree.parent / "repository.git"
    git = ["git", f"--git-dir={git_dir if git_dir.exists() else tree / '.git'}", f"--work-tree={tree}"]
    subprocess.run([*git, "add", "-A"], cwd=tree, check=True)
    subprocess.run(
        [*git, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "payload"], cwd=tree, check=True
    )


def _check_documents(tree: Path) -> int:
    """Every file the agents wrote under ``tree`` parses as what its name says; Markdown renders
    without markup of its own. Returns how many files were checked."""
    checked = 0
    for path in sorted(p for p in tree.rglob("*") if p.is_file() and ".git" not in p.relative_to(tree).parts):
        text = path.read_text("utf-8")
        if path.suffix == ".py":
            compile(text, str(path), "exec")
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".md":
            if text.startswith("---\n"):  # an issue's front matter: YAML of the platform's keys only
                front = yaml.safe_load(text.split("---\n")[1])
                assert set(front) == {"number", "state", "priority", "points"}
            rendered = MarkdownIt("commonmark").enable("table").render(text)
            assert "<script" not in rendered and '<a href="javascript' not in rendered
            assert "<img" not in rendered
        checked += 1
    return checked


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=IDS)
def test_every_document_the_agents_write_parses_and_shows_the_name_as_text(tmp_path: Path, name: str) -> None:
    agents = Agents(tmp_path / "project", name)
    stories = [{**_story(1, name), "priority": "must", "points": 3}, {**_story(2, name), "priority": "should"}]
    items = [{"number": 1, "title": f"Decide {name}", "sentence": name, "acceptance_criteria": [name]}]
    agents.run("requirements_analyst", "requirements", stories=stories)
    agents.run("requirements_analyst", "sprint_plan", stories=stories)
    agents.run("solution_architect", "architecture", stories=stories, features={})
    agents.run("solution_architect", "validation", expect=["docs/requirements.md"])
    agents.run("devops", "ci")
    agents.run("devops", "deploy")
    # Augmentation works on the customer's own repository: the team's roles run on a workspace that
    # is a clone of a connected remote (a local bare repository, as a customer's would be).
    team = Agents(tmp_path / "augmentation", name)
    bare = team_remote(tmp_path / "team")
    repository = {"url": f"file://{bare}", "secret": "", "connected_at": timezone.now().isoformat()}
    team.run("team_integration", "team_assessment", items=items, repository=repository)
    team.run("team_integration", "process", repository=repository)
    team.run("task_execution", "pickup", items=items, repository=repository)
    item = team.run("task_execution", "backlog_item", item=items[0], repository=repository)
    team.run("handoff_coordinator", "handoff", expect=list(item.artifacts), repository=repository)

    tree = agents.workspace
    checked = _check_documents(tree) + _check_documents(team.workspace)
    assert checked > 15

    expected = _markdown_text(name)
    shown = MarkdownIt().render((tree / "docs" / "requirements.md").read_text("utf-8"))
    heading = shown.split("</h1>")[0].removeprefix("<h1>")
    assert " ".join(html.unescape(heading).split()) == " ".join(f"Requirements of {expected}".split())
    readme = MarkdownIt().render((tree / "README.md").read_text("utf-8"))
    assert " ".join(html.unescape(readme.split("</h1>")[0].removeprefix("<h1>")).split()) == " ".join(expected.split())
