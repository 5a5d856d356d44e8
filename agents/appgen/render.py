"""Writing the generated application into a working tree: the core, one module and one test module
per entity, one acceptance test module per story.

The core (``scaffold/``, files ending in ``-tpl`` so the portal's own tooling leaves them alone)
is the same for every project: a standard-library WSGI application on SQLite with accounts,
sessions, CSRF-protected pages and a JSON API, and the tests that cover it. What the stories add
is data: ``app/entities/<entity>.py`` defines an entity's fields (the union over every story that
names it), and the tests exercise it through the pages and the API. Everything is derived from
the story specs in ``spec/stories/``, so regenerating after a merge gives the same files whatever
order the stories arrived in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from pprint import pformat

from agents.appgen.acceptance import story_module
from agents.appgen.design import EntityDesign, FieldDesign, StoryDesign, merge_fields
from agents.quoting import py_docstring
from agents.workspace import tree_path

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
SPEC_DIR = "spec/stories"
SAMPLES = {
    "text": "Sample {name}",
    "longtext": "Some words about the {name}",
    "integer": 7,
    "decimal": "12.50",
    "boolean": True,
    "date": "2030-05-17",
    "email": "someone@example.com",
}
INVALID = {"integer": "many", "decimal": "lots", "date": "tomorrow", "email": "not-an-email", "boolean": "perhaps"}
GITIGNORE = "__pycache__/\n*.pyc\n*.sqlite3\n.coverage\ncoverage.json\nhtmlcov/\n"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "story"


def spec_path(design: StoryDesign) -> str:
    return f"{SPEC_DIR}/{design.number:03d}-{slug(design.title)}.json"


def spec_write(tree: Path, design: StoryDesign) -> str:
    relative = spec_path(design)
    _write(tree, relative, json.dumps(design.to_json(), indent=2, sort_keys=True) + "\n")
    return relative


def specs_read(tree: Path) -> list[StoryDesign]:
    folder = tree / SPEC_DIR
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [StoryDesign.from_json(json.loads(path.read_text("utf-8"))) for path in paths]


def _write(tree: Path, relative: str, text: str) -> None:
    path = tree_path(tree, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text("utf-8") != text:
        path.write_text(text, "utf-8")


def _sample(item: FieldDesign) -> object:
    value = SAMPLES[item.type]
    return value.format(name=item.name.replace("_", " ")) if isinstance(value, str) else value


def _form_value(item: FieldDesign) -> str:
    value = _sample(item)
    return "on" if value is True else str(value)


def core_files(project: str) -> dict[str, str]:
    files = {str(p.relative_to(SCAFFOLD)).removesuffix("-tpl"): p.read_text("utf-8") for p in SCAFFOLD.rglob("*-tpl")}
    # The name is customer text: a docstring escaper and repr, never interpolation (a name that
    # closed the docstring became code that every test run, review and preview executed).
    docstring = py_docstring(
        f"{project}: a web application generated from its user stories by Agent Hive's built-in developers."
    )
    files["app/__init__.py"] = f"{docstring}\n\nNAME = {project!r}\n"
    files[".gitignore"] = GITIGNORE
    return files


def entity_module(entity: EntityDesign) -> str:
    stories = entity.stories
    named = ", ".join(str(n) for n in stories)
    said = f"named by stor{'y' if len(stories) == 1 else 'ies'} {named}" if stories else "linked to by the stories"

    def field_line(f: FieldDesign) -> str:
        extra = (", required=True" if f.required else "") + (f", target={f.target!r}" if f.target else "")
        return f"        Field({f.name!r}, {f.type!r}{extra}),"

    lines = [
        f'"""{entity.name.replace("_", " ").capitalize()}: {said}."""',
        "",
        "from app.model import Entity, Field",
        "",
        "ENTITY = Entity(",
        f"    name={entity.name!r},",
        f"    plural={entity.plural!r},",
        "    fields=(",
        *(field_line(f) for f in entity.fields),
        "    ),",
        f"    stories={tuple(stories)!r},",
        *([f"    closed={tuple(entity.closed)!r},"] if entity.closed else []),
        *([f"    writers={tuple(entity.writers)!r},"] if entity.writers else []),
        ")",
        "",
    ]
    return "\n".join(lines)


def entity_tests(entity: EntityDesign) -> str:
    name, plural = entity.name, entity.plural
    fields = tuple(f for f in entity.fields if f.type != "link")
    role = f'\n        self.app.db.user_role_set("alice@example.com", {entity.writers[0]!r})' if entity.writers else ""
    label = name.replace("_", " ")
    cls = "".join(part.capitalize() for part in name.split("_"))
    form = {f.name: _form_value(f) for f in fields}
    data = {f.name: _sample(f) for f in fields}
    invalid = {f.name: INVALID[f.type] for f in fields if f.type in INVALID}
    shown = str(data["name"])
    return f'''"""The {label} pages and API: create, list, show, edit, delete; validation; privacy."""

from __future__ import annotations

from app.entities.{name} import ENTITY
from tests.support import AppTestCase, Client

FORM = {pformat(form, width=110)}
DATA = {pformat(data, width=110)}
INVALID = {pformat(invalid, width=110)}


class {cls}PageTests(AppTestCase):
    entities = (ENTITY,)

    def setUp(self) -> None:
        super().setUp()
        self.client.sign_up(){role}
        self.csrf = self.client.get("/{plural}/").csrf()

    def test_a_{name}_is_created_listed_edited_and_deleted(self) -> None:
        reply = self.client.post("/{plural}/", {{**FORM, "csrf": self.csrf}})
        self.assertEqual(reply.status, 302, reply.text)
        location = reply.headers["Location"]
        self.assertIn({shown!r}, self.client.get("/{plural}/").text)
        self.assertIn({shown!r}, self.client.get(location).text)
        reply = self.client.post(f"{{location}}/edit", {{**FORM, "name": "Changed", "csrf": self.csrf}})
        self.assertEqual(reply.status, 302)
        self.assertIn("Changed", self.client.get(location).text)
        self.assertEqual(self.client.post(f"{{location}}/delete", {{"csrf": self.csrf}}).status, 302)
        self.assertEqual(self.client.get(location).status, 404)

    def test_a_{name}_without_a_name_is_refused(self) -> None:
        reply = self.client.post("/{plural}/", {{**FORM, "name": "", "csrf": self.csrf}})
        self.assertEqual(reply.status, 400)
        self.assertIn("Name is required.", reply.text)

    def test_the_{name}_pages_need_a_login(self) -> None:
        self.assertEqual(Client(self.app).get("/{plural}/").status, 302)


class {cls}ApiTests(AppTestCase):
    entities = (ENTITY,)

    def setUp(self) -> None:
        super().setUp()
        self.client.sign_up()
        self.client.api_login(){role}

    def test_the_api_creates_reads_updates_and_deletes_a_{name}(self) -> None:
        created = self.client.send("POST", "/api/{plural}", DATA)
        self.assertEqual(created.status, 201, created.text)
        path = f"/api/{plural}/{{created.json()['id']}}"
        self.assertEqual(self.client.get(path).json()["name"], DATA["name"])
        self.assertEqual(len(self.client.get("/api/{plural}").json()), 1)
        self.assertEqual(self.client.send("PATCH", path, {{"name": "Changed"}}).json()["name"], "Changed")
        self.assertEqual(self.client.request("DELETE", path).status, 204)
        self.assertEqual(self.client.get(path).status, 404)

    def test_the_api_refuses_values_of_the_wrong_type(self) -> None:
        for field, value in INVALID.items():
            with self.subTest(field=field):
                reply = self.client.send("POST", "/api/{plural}", {{**DATA, field: value}})
                self.assertEqual(reply.status, 400)
                self.assertIn(field, reply.json()["errors"])

    def test_a_{name}_of_another_user_is_not_found(self) -> None:
        created = self.client.send("POST", "/api/{plural}", DATA).json()
        self.assertEqual(self.other_client().get(f"/api/{plural}/{{created['id']}}").status, 404)
'''


def _docstring(design: StoryDesign) -> str:
    criteria = "".join(f"\n- {c}" for c in design.criteria) or "\n- (none were written)"
    text = f"Story {design.number}: {design.title}\n\n{design.sentence}\n\nAcceptance criteria as agreed:{criteria}\n"
    return py_docstring(text)


def story_tests(design: StoryDesign, entities: dict[str, EntityDesign]) -> str:
    return story_module(design, entities, SAMPLES, _docstring(design))


def generate(tree: Path, project: str, designs: Iterable[StoryDesign]) -> list[str]:
    """Write the whole application for these story designs; returns the paths it is made of."""
    designs = sorted(designs, key=lambda d: d.number)
    files = core_files(project)
    entities = merge_fields(designs)
    for name, entity in entities.items():
        files[f"app/entities/{name}.py"] = entity_module(entity)
        files[f"tests/test_entity_{name}.py"] = entity_tests(entity)
    for design in designs:
        files[f"tests/test_story_{design.number:03d}.py"] = story_tests(design, entities)
    folder = tree_path(tree, "app/entities")  # refused when the tree's code made it a link elsewhere
    for stale in folder.glob("*.py") if folder.is_dir() else []:
        if f"app/entities/{stale.name}" not in files:
            stale.unlink()
    for relative, text in sorted(files.items()):
        _write(tree, relative, text)
    return sorted(files)
