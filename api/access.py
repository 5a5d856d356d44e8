"""The one way API views reach a company's rows — by id within the schema of the host, which is
the key's own company (a key of another company never authenticates here) — and the hook that
decides whether an owner may make a key now."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from projects.models import Project, Quote, Task
from tenants.access import membership_for
from tenants.models import Customer, Role
from tenants.reauth import has_recent_auth


def get_project_for_key(pk: int) -> Project:
    project = Project.objects.filter(pk=pk).first()
    if project is None:
        raise Http404("No such project")
    return project


def get_quote_for_key(project: Project, number: int) -> Quote:
    quote = Quote.objects.filter(project=project, number=number).first()
    if quote is None:
        raise Http404("No such quote")
    quote.project = project
    return quote


def get_task_for_key(project: Project, pk: int) -> Task:
    task = Task.objects.filter(pk=pk, project=project).first()
    if task is None:
        raise Http404("No such task")
    return task


def key_owner_role(request: HttpRequest, customer: Customer) -> Role | None:
    """The signed-in user's own role in this company (staff without a membership have none: a
    key must belong to a person of the company, never to an account manager)."""
    membership = membership_for(request.user, customer)
    return Role(membership.role) if membership is not None else None


def api_key_creation_allowed(request: HttpRequest) -> bool:
    """May this request make an API key? An owner of the company, signed in with the portal
    session, who proved it is them recently (``tenants.reauth``: a login, second factor or
    re-entered password within ``HIVE_REAUTH_SECONDS``) — a stale session left open must not
    become a durable key."""
    customer: Customer | None = getattr(request, "customer", None)
    if customer is None or not request.user.is_authenticated:
        return False
    return key_owner_role(request, customer) == Role.OWNER and has_recent_auth(request)
