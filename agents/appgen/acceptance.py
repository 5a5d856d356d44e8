"""Acceptance criteria as executable checks: every criterion of a story gets a kind, and the kinds
the built-in developers can interpret get a generated test that checks exactly that behaviour.

Kinds: ``create`` (add, list, edit), ``required`` (a record without a field is refused), ``link``
(a record points to one of the user's records of another entity, never someone else's),
``permission`` (only a role may change the entity; other users see nothing), ``state`` (a closing
state takes the record off its lists), ``account`` (sign up, log out, log in). Everything else —
and every criterion that needs a capability the built-in developers lack
(``agents.appgen.capabilities``) — is ``unverified`` with its reason: unknown is never pass.

A story without criteria gets the ones a product owner would write, marked ``derived``. The test
of criterion ``i`` (1-based, as the customer numbers them) of story ``n`` is
``tests.test_story_<nnn>.Story<nnn>Acceptance.test_story_<nnn>_criterion_<i>_<kind>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pprint import pformat
from typing import Any

from agents.appgen import wording
from agents.appgen.capabilities import criterion_gap
from agents.appgen.design import EntityDesign, FieldDesign, StoryDesign
from agents.quoting import md_inline, py_docstring

OUTPUT_LIMIT = 2000
_CREATE = re.compile(
    r"\b(?:add|adds|added|create|creates|created|register|registers|registered|record|records|recorded|book|books|"
    r"booked|save|saves|saved|enter|enters|entered|list|listed|lists|see|sees|shown|shows|appears?|visible|edit|"
    r"edits|edited|change|changes|changed|update|updates|updated|store|stored|keep|kept|submit|submitted)\b",
    re.I,
)
_BEYOND = re.compile(
    r"\b(?:calculat\w*|totals?|sum|discount\w*|tax\w*|within\s+\d+|seconds?|minutes?|percent|notif\w*|remind\w*|"
    r"sort\w*|filter\w*|search\w*|ordered\s+by|pdf|print\w*|maps?|photos?|images?|upload\w*|attach\w*|"
    r"overlap\w*|conflict\w*|twice|double|duplicate\w*|limit\w*|maximum|minimum|at\s+most|at\s+least|"
    r"automatic\w*|count\w*|capacity|warn\w*|expire\w*|history|undo)\b|%|\d",
    re.I,
)
_PRIVACY = re.compile(
    r"\b(?:other|another|someone\s+else's|other\s+people's)\s+(?:\w+\s+)?(?:users?|owners?|customers?|members?|"
    r"people|volunteers?|suppliers?|buyers?|clients?|tenants?|patients?)\b|\bonly\s+(?:i|me|the\s+owner|its\s+owner)\b"
    r"|\bnobody\s+else\b|\bprivate\b",
    re.I,
)
_ACCOUNT = re.compile(r"\b(?:log ?in|log ?out|sign ?(?:in|up|out)|password|account|register\w*)\b", re.I)


@dataclass(frozen=True, slots=True)
class Check:
    story: int
    index: int  # 1-based
    criterion: str
    derived: bool
    kind: str  # create/required/link/permission/privacy/state/account, or "" when unverified
    reason: str = ""  # why it is unverified
    fields: tuple[str, ...] = ()  # required: the fields; link: the link fields

    @property
    def method(self) -> str:
        return f"test_story_{self.story:03d}_criterion_{self.index}_{self.kind}" if self.kind else ""

    @property
    def test(self) -> str:
        number = f"{self.story:03d}"
        return f"tests.test_story_{number}.Story{number}Acceptance.{self.method}" if self.kind else ""


def derived_criteria(design: StoryDesign, entity: EntityDesign | None) -> list[str]:
    """The criteria a product owner would write for a story that has none."""
    if design.kind == "auth" or entity is None:
        return ["Given I have signed up, when I log out and log in again, then I am signed in"]
    label, plural = design.entity.replace("_", " "), entity.plural.replace("_", " ")
    article = "An" if label[:1] in "aeiou" else "A"
    found = [
        f"Given I am signed in, when I add {article.lower()} {label} with a name, then it is on the list of {plural}",
        f"{article} {label} without a name is refused",
    ]
    found += [f"{article} {label} is linked to one of my {link.target.replace('_', ' ')}" for link in entity.links]
    found += [f"{article} {label} that is {state} is no longer listed" for state in entity.closed[:1]]
    found += [f"Only {role.replace('_', ' ')}s can add {plural}" for role in entity.writers[:1]]
    return found


def _classify(design: StoryDesign, entity: EntityDesign | None, text: str) -> tuple[str, str, tuple[str, ...]]:
    gap = criterion_gap(text)
    if gap is not None:
        return "", gap.reason, ()
    if design.kind == "auth" or entity is None:
        if _ACCOUNT.search(text):
            return "account", "", ()
        return "", "the built-in developers check sign-up and login only for an account story", ()
    names = {f.name for f in entity.fields}
    if entity.writers and wording.only_roles([text]):
        return "permission", "", ()
    if _PRIVACY.search(text):
        return "privacy", "", ()
    required = tuple(n for n in wording.required_fields(text) if n in names)
    if required:
        return "required", "", required
    if entity.closed and (wording.leaves_list(text) or set(wording.tokens(text)) & set(entity.closed)):
        return "state", "", ()
    words = set(wording.tokens(text))
    links = tuple(
        f.name for f in entity.links if f.name in words or f.target in words or f.name.replace("_", " ") in text.lower()
    )
    if links and ("link" in text.lower() or not _BEYOND.search(text)):
        return "link", "", links
    if _CREATE.search(text) and not _BEYOND.search(text):
        return "create", "", ()
    return "", "the built-in developers cannot turn this criterion into a check; a person verifies it", ()


def checks_of(design: StoryDesign, entity: EntityDesign | None) -> list[Check]:
    """One check per criterion of the story (derived ones when it has none)."""
    given = [c for c in design.criteria if c.strip()]
    texts, derived = (given, False) if given else (derived_criteria(design, entity), True)
    checks = []
    for index, text in enumerate(texts, 1):
        kind, reason, fields = _classify(design, entity, text)
        checks.append(Check(design.number, index, text, derived, kind, reason, fields))
    return checks


def unbuilt_checks(number: int, criteria: Sequence[str], reason: str) -> list[Check]:
    """The checks of a story nothing was built for (a capability gap, a story that failed)."""
    texts = [c for c in criteria if c.strip()] or ["The story works as the customer described it"]
    return [Check(number, i, text, not any(c.strip() for c in criteria), "", reason) for i, text in enumerate(texts, 1)]


# --- the generated test module --------------------------------------------------------------------


def _sample(item: FieldDesign, samples: Mapping[str, object]) -> object:
    value = samples[item.type]
    return value.format(name=item.name.replace("_", " ")) if isinstance(value, str) else value


def _method(check: Check, entity: EntityDesign) -> str:
    plural, head = entity.plural, f"    def {check.method}(self) -> None:\n"
    doc = f"        {py_docstring(check.criterion)}\n"
    if check.kind == "create":
        body = f"""        created = self.create()
        self.assertIn(DATA["name"], self.client.get("/{plural}/").text)
        path = f"/api/{plural}/{{created['id']}}"
        self.assertEqual(self.client.send("PATCH", path, {{"name": "Changed name"}}).json()["name"], "Changed name")
        self.assertIn("Changed name", self.client.get(f"/{plural}/{{created['id']}}").text)
"""
    elif check.kind == "required":
        body = f"""        data = self.data()
        for field in {list(check.fields)!r}:
            with self.subTest(field=field):
                reply = self.client.send("POST", "/api/{plural}", {{**data, field: ""}})
                self.assertEqual(reply.status, 400, reply.text)
                self.assertIn(field, reply.json()["errors"])
        self.assertEqual(self.client.get("/api/{plural}").json(), [])
"""
    elif check.kind == "link":
        body = f"""        data = self.data()
        created = self.create(data)
        page = self.client.get(f"/{plural}/{{created['id']}}").text
        for field, target in {[(f.name, f.target) for f in entity.links if f.name in check.fields]!r}:
            with self.subTest(field=field):
                self.assertEqual(created[field], data[field])
                self.assertIn(f'href="/{{target}}/{{data[field]}}"', page)
                mine = self.other_client().send("POST", f"/api/{{target}}", LINKS[field][1]).json()
                reply = self.client.send("POST", "/api/{plural}", {{**data, field: mine.get("id", 999999)}})
                self.assertEqual(reply.status, 400, reply.text)
                self.assertIn(field, reply.json()["errors"])
"""
    elif check.kind == "permission":
        body = f"""        self.app.db.user_role_set("alice@example.com", "")
        data = self.data()
        self.assertEqual(self.client.send("POST", "/api/{plural}", data).status, 403)
        self.assertEqual(self.client.get("/api/{plural}").json(), [])
        self.app.db.user_role_set("alice@example.com", WRITERS[0])
        self.assertEqual(self.client.send("POST", "/api/{plural}", data).status, 201)
"""
    elif check.kind == "privacy":
        body = f"""        created = self.create()
        stranger = self.other_client()
        self.assertEqual(stranger.get(f"/api/{plural}/{{created['id']}}").status, 404)
        self.assertEqual(stranger.get("/api/{plural}").json(), [])
        self.assertNotIn(DATA["name"], stranger.get("/{plural}/").text)
"""
    else:  # state
        body = f"""        created = self.create()
        self.assertIn(DATA["name"], self.client.get("/{plural}/").text)
        path = f"/api/{plural}/{{created['id']}}"
        self.assertEqual(self.client.send("PATCH", path, {{"status": CLOSED}}).status, 200)
        self.assertNotIn(DATA["name"], self.client.get("/{plural}/").text)
        self.assertNotIn(created["id"], [r["id"] for r in self.client.get("/api/{plural}").json()])
        self.assertEqual(self.client.get(path).json()["status"], CLOSED)
"""
    return head + doc + body


def _account_module(design: StoryDesign, checks: list[Check]) -> str:
    number = f"{design.number:03d}"
    methods = "".join(
        f"""
    def {c.method}(self) -> None:
        {py_docstring(c.criterion)}
        self.assertEqual(self.client.sign_up("story{number}@example.com").status, 302)
        page = self.client.get("/")
        self.assertIn("story{number}@example.com", page.text)
        self.client.post("/logout", {{"csrf": page.csrf()}})
        self.assertIn("Log in", self.client.get("/").text)
        self.assertEqual(self.client.api_login("story{number}@example.com").status, 200)
"""
        for c in checks
        if c.kind
    )
    return f"""

from __future__ import annotations

from tests.support import AppTestCase


class Story{number}Acceptance(AppTestCase):
    def test_the_accounts_exist(self) -> None:
        self.assertEqual(self.client.get("/login").status, 200)
{methods}"""


def story_module(
    design: StoryDesign, entities: Mapping[str, EntityDesign], samples: Mapping[str, object], docstring: str
) -> str:
    """The acceptance test module of one story: one test per criterion it can check."""
    entity = entities.get(design.entity) if design.kind == "crud" else None
    checks = checks_of(design, entity)
    if entity is None:
        return docstring + _account_module(design, checks)
    number = f"{design.number:03d}"
    targets = sorted({f.target: f.name for f in entity.links}.items())
    by_plural = {e.plural: e for e in entities.values()}
    imports = "".join(
        f"from app.entities.{by_plural[t].name} import ENTITY as LINKED_{i}\n"
        for i, (t, _) in enumerate(targets)
        if t in by_plural
    )
    linked = ", ".join(["ENTITY", *(f"LINKED_{i}" for i, (t, _) in enumerate(targets) if t in by_plural)])
    data = {f.name: _sample(f, samples) for f in entity.fields if f.type != "link"}
    links = {
        f.name: (f.target, {g.name: _sample(g, samples) for g in by_plural[f.target].fields if g.type != "link"})
        for f in entity.links
        if f.target in by_plural
    }
    methods = "\n".join(_method(c, entity) for c in checks if c.kind)
    return f'''{docstring}

from __future__ import annotations

from typing import Any

from app.entities.{entity.name} import ENTITY
{imports}from tests.support import AppTestCase

DATA: dict[str, Any] = {pformat(data, width=100)}
LINKS = {pformat(links, width=100)}
WRITERS = {list(entity.writers)!r}
CLOSED = {(entity.closed or ("closed",))[0]!r}


class Story{number}Acceptance(AppTestCase):
    entities = ({linked},)

    def setUp(self) -> None:
        super().setUp()
        self.client.sign_up()
        self.client.api_login()
        if WRITERS:
            self.app.db.user_role_set("alice@example.com", WRITERS[0])

    def data(self) -> dict[str, Any]:
        """The sample record, with a record of each linked entity made first."""
        data = dict(DATA)
        for field, (target, sample) in LINKS.items():
            linked = self.client.send("POST", f"/api/{{target}}", sample)
            self.assertEqual(linked.status, 201, linked.text)
            data[field] = linked.json()["id"]
        return data

    def create(self, data: dict[str, Any] | None = None) -> Any:
        reply = self.client.send("POST", "/api/{entity.plural}", data or self.data())
        self.assertEqual(reply.status, 201, reply.text)
        return reply.json()

    def test_the_story_{number}_record_is_kept(self) -> None:
        self.assertEqual(self.create()["name"], DATA["name"])

{methods}'''


# --- results --------------------------------------------------------------------------------------

_HOST_PATH = re.compile(r"(?:/[\w.@+-]+)+/(?=(?:app|tests)/)|(?:/[\w.@+-]+){2,}")


def _clean(output: str) -> str:
    """A test's output without host paths, at most ``OUTPUT_LIMIT`` characters (its end)."""
    text = _HOST_PATH.sub(lambda m: "" if m.group(0).endswith("/") else "…", output)
    return text[-OUTPUT_LIMIT:]


def check_results(
    checks: Sequence[Check], outcomes: Mapping[str, str], details: Mapping[str, str], commit: str
) -> list[dict[str, Any]]:
    """The contract the platform stores: one row per criterion with its status and evidence."""
    rows: list[dict[str, Any]] = []
    for check in checks:
        outcome = outcomes.get(check.test, "") if check.kind else ""
        status = {"passed": "pass", "failed": "fail"}.get(outcome, "unverified")
        reason = check.reason
        if check.kind and status == "unverified":
            reason = f"its test ({check.method}) did not run" if not outcome else f"its test was {outcome}"
        output = details.get(check.test, "") if check.kind else ""
        rows.append(
            {
                "story": check.story,
                "index": check.index,
                "criterion": check.criterion,
                "derived": check.derived,
                "status": status,
                "test": check.test,
                "output": _clean(output or ("ok" if status == "pass" else "")),
                "commit": commit if status != "unverified" else "",
                "reason": "" if status != "unverified" else reason,
            }
        )
    return rows


def acceptance_markdown(project: str, rows: Sequence[Mapping[str, Any]], commit: str) -> str:
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("pass", "fail", "unverified")}
    lines = [
        f"# Acceptance of {md_inline(project)}",
        "",
        f"Checked on `{commit[:10]}`: {counts['pass']} of {len(rows)} criteria verified-pass, {counts['fail']} "
        f"verified-fail, {counts['unverified']} unverified. Unverified is unknown, never pass.",
        "",
        "| story | # | criterion | check | result |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        label = md_inline(str(row["criterion"])).replace("|", "\\|") + (" *(derived)*" if row["derived"] else "")
        check = (
            f"`{row['test'].rsplit('.', 1)[-1]}`" if row["test"] else md_inline(str(row["reason"])).replace("|", "\\|")
        )
        result = {"pass": "verified-pass", "fail": "**verified-fail**", "unverified": "unverified"}[str(row["status"])]
        lines.append(f"| {int(row['story'])} | {int(row['index'])} | {label} | {check} | {result} |")
    return "\n".join(lines) + "\n"
