"""The repository page of a team augmentation: connect the team's git repository (URL and deploy
key or token), replace it, and see what the agents did with it — the velocity measured from its
history and the branches they pushed. The credential is never shown back: a hint (kind, length)
and when it was last changed is all the page knows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from projects.access import get_project_for_member
from projects.delivery.repository import RepositoryError, repository_connect
from projects.delivery.workflow import CONNECT_STEP
from projects.models import Project, RepositoryConnection, Service, Task
from tenants.models import Role, User
from tenants.secrets import MAX_SECRET_CHARS


class RepositoryForm(forms.Form):
    url = forms.CharField(
        label="Git URL",
        max_length=500,
        help_text="https://host/owner/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git",
    )
    credential = forms.CharField(
        label="Deploy key (private key, for ssh) or access token (for https)",
        required=False,
        max_length=MAX_SECRET_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text="Stored encrypted and never shown again; connect again to replace it.",
    )


def _delivered(project: Project) -> list[dict[str, Any]]:
    rows = Task.objects.filter(project=project, key="backlog_item").order_by("position", "pk")
    return [
        {"title": task.title, "status": task.get_status_display(), **dict(task.output.get("data") or {})}
        for task in rows
    ]


def _context(project: Project, form: RepositoryForm) -> dict[str, Any]:
    assessment = Task.objects.filter(project=project, key="team_assessment", status=Task.Status.DONE).first()
    waiting = Task.objects.filter(project=project, key=CONNECT_STEP, status=Task.Status.AWAITING_APPROVAL).exists()
    return {
        "project": project,
        "form": form,
        "repository": RepositoryConnection.objects.filter(project=project).first(),
        "velocity": dict(assessment.output.get("data") or {}) if assessment is not None else None,
        "delivered": _delivered(project),
        "waiting": waiting,
    }


@require_http_methods(["GET", "POST"])
def repository_page(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        project = get_project_for_member(request, pk, service=Service.AUGMENTATION)
        return render(request, "projects/repository.html", _context(project, RepositoryForm()))
    project = get_project_for_member(request, pk, role=Role.MEMBER, service=Service.AUGMENTATION)
    form = RepositoryForm(request.POST)
    if form.is_valid():
        assert isinstance(request.user, User)
        try:
            repo = repository_connect(
                project=project,
                url=form.cleaned_data["url"],
                credential=form.cleaned_data["credential"],
                user=request.user,
            )
        except RepositoryError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Repository {repo.url} connected; the credential is stored encrypted.")
            return redirect("project_repository", pk=project.pk)
    # The credential typed is never sent back into the page, not even after an error.
    data = request.POST.copy()
    data["credential"] = ""
    form.data = data
    return render(request, "projects/repository.html", _context(project, form), status=400)
