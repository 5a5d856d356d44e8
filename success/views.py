"""The customer's view of delivery: the projects overview (the portal's home page), a project's
live dashboard, and the dashboard's state for clients whose websocket is down (polling)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from projects.access import get_project_for_member
from success.dashboard import feed_group, project_summaries
from success.fragments import live_html, polled_state_html
from tenants.access import current_customer, portal_role
from tenants.models import ROLE_RANK, Role


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every project of the customer with its status, progress and health."""
    context = {
        "customer": current_customer(request),
        "summaries": project_summaries(),
        "can_edit": ROLE_RANK[portal_role(request)] >= ROLE_RANK[Role.MEMBER],
    }
    return render(request, "success/overview.html", context)


@require_GET
def project_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_member(request, pk)
    group = feed_group(request.GET.get("feed"))
    query = f"?feed={group.key}"
    context = {
        "project": project,
        "live_html": live_html(project, group),
        "ws_path": f"/ws/projects/{project.pk}/{query}",
        "state_url": reverse("project_dashboard_state", args=[project.pk]) + query,
    }
    return render(request, "success/dashboard.html", context)


@never_cache
@require_GET
def project_dashboard_state(request: HttpRequest, pk: int) -> HttpResponse:
    """The same fragments the websocket sends on connect, each swapped by id (``hx-swap-oob``)."""
    project = get_project_for_member(request, pk)
    return HttpResponse(polled_state_html(project, feed_group(request.GET.get("feed"))))
