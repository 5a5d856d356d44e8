"""Driving the scoping pages of a customer portal from tests: start a project, read the page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from projects.models import Project, Service, Story

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

URLCONF = "hive.urls_tenant"
REQUIREMENTS = Path(__file__).parent / "fixtures" / "requirements"


def url(name: str, *args: int) -> str:
    return reverse(name, urlconf=URLCONF, args=args)


_INLINE_TAG = re.compile(r"</?(a|b|strong|em|span|code)\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", markup))).split())


def text_of(response: Response) -> str:
    """The page's text as a reader sees it: tags out, entities decoded, whitespace collapsed."""
    return _plain(response.content.decode())


def by_testid(response: Response, name: str) -> str:
    """The text of the element marked ``data-testid=name`` (no nested element of the same tag)."""
    content = response.content.decode()
    match = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(name)}"[^>]*>(.*?)</\1>', content, re.S)
    assert match is not None, f"no data-testid={name!r} on the page"
    return _plain(match.group(2))


def new_project(client: Client, service: Service, name: str = "Launch") -> Project:
    response = client.post(url("project_new"), {"name": name, "service": service.value})
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("alpha"):
        project = Project.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))
    assert response["Location"] == url("project_detail", project.pk)
    return project


def submit_requirements(client: Client, project: Project, fixture: str) -> Response:
    text = (REQUIREMENTS / fixture).read_text(encoding="utf-8")
    response = client.post(url("requirements_submit", project.pk), {"text": text})
    assert response.status_code == 302, text_of(response)[:2000]
    return client.get(url("project_detail", project.pk))


def stories_of(project: Project) -> list[Story]:
    with schema_context("alpha"):
        return list(Story.objects.filter(project=project))
