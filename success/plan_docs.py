"""The plan a customer approves, read in the portal: the Markdown documents under ``docs/`` of the
project's repository (requirements, architecture, ADRs, sprints, stories, the modernization plan),
rendered to HTML.

Everything in a workspace is attacker-controlled (agents and models write it from customer text),
so the documents are read and shown as hostile:

* they come from ``main``'s committed tree through the one hardened host-git function
  (``agents.hostgit.git_run`` with an explicit ``--git-dir``), never from the working tree, so a
  symlink or a file planted outside git is never followed;
* a path is listed only when git says it is a regular file (mode 100644/100755) under ``docs/``
  ending in ``.md``, at most ``MAX_DOCUMENTS`` of them, each at most ``MAX_BYTES`` (git reports
  the size before the blob is read; a bigger file is named, not shown);
* Markdown is rendered by markdown-it-py with raw HTML off (``html=False``: ``<script>`` is text),
  and the HTML is then cleaned by nh3 (ammonia) to an allow-list of tags, attributes and URL
  schemes (http, https, mailto and in-page anchors — no ``javascript:`` or ``data:``), with
  ``rel="noopener noreferrer nofollow"`` on every link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt

from agents.hostgit import GitError, git_run
from agents.workspace import Workspace

DOCS_DIR = "docs/"
MAX_DOCUMENTS = 200
MAX_BYTES = 256 * 1024
# The plan's documents first, in the order a reader wants them; the rest by path.
PLAN_ORDER = ("docs/requirements.md", "docs/architecture.md", "docs/sprints.md")
_REF = "refs/heads/main"
_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "del"),
    *("ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a"),
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"style"}, "td": {"style"}, "ol": {"start"}}
_LINE = re.compile(r"^(?P<mode>\d{6}) blob (?P<blob>[0-9a-f]{40,64}) +(?P<size>\d+|-)\t(?P<path>.+)$")
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


@dataclass(frozen=True, slots=True)
class Document:
    path: str
    size: int
    blob: str  # the object listed: what is read is what was listed, even if main moved since

    @property
    def too_big(self) -> bool:
        return self.size > MAX_BYTES

    @property
    def name(self) -> str:
        return self.path.removeprefix(DOCS_DIR)


def markdown_html(text: str) -> str:
    """Markdown from an untrusted source as safe HTML (see the module docstring)."""
    return nh3.clean(
        _markdown.render(text),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


def _order(document: Document) -> tuple[int, str]:
    return (PLAN_ORDER.index(document.path) if document.path in PLAN_ORDER else len(PLAN_ORDER), document.path)


def documents_list(workspace: Workspace) -> list[Document]:
    """The Markdown documents under ``docs/`` on ``main`` (none when there is no repository yet)."""
    if not workspace.exists:
        return []
    try:
        listing = git_run("ls-tree", "-r", "-l", "-z", _REF, "--", DOCS_DIR, git_dir=workspace.git_dir, timeout=20)
    except GitError:
        return []
    documents = []
    for entry in listing.split("\0"):
        match = _LINE.match(entry)
        if match is None or match["mode"] not in {"100644", "100755"} or match["size"] == "-":
            continue
        path = match["path"]
        if path.startswith(DOCS_DIR) and path.endswith(".md") and ".." not in path.split("/"):
            documents.append(Document(path, int(match["size"]), match["blob"]))
    return sorted(documents, key=_order)[:MAX_DOCUMENTS]


def document_html(workspace: Workspace, document: Document) -> str:
    """The document rendered; a document over the cap is not read at all."""
    if document.too_big:
        return ""
    text = git_run("cat-file", "blob", document.blob, git_dir=workspace.git_dir, timeout=20)
    return markdown_html(text[:MAX_BYTES])
