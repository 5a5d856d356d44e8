"""Pages of a customer's portal that belong to the tenants app: the team and the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants import access, audit_log, links, services
from tenants.forms import InvitationForm, RoleForm
from tenants.models import Invitation, Membership, Role


def _membership_in_portal(request: HttpRequest, pk: int) -> Membership:
    membership = (
        Membership.objects.select_related("user", "customer")
        .filter(pk=pk, customer=access.current_customer(request))
        .first()
    )
    if membership is None:
        raise Http404("No such member")
    return membership


@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    customer = access.current_customer(request)
    role = access.portal_role(request)
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        access.require_role(request, Role.OWNER)
        if form.is_valid():
            try:
                services.invitation_send(
                    customer=customer,
                    email=form.cleaned_data["email"],
                    role=Role(form.cleaned_data["role"]),
                    invited_by=request.user,  # type: ignore[arg-type]
                    accept_url_base=links.public_url(request, "/invitations/"),
                )
            except services.MembershipError as exc:
                form.add_error("email", str(exc))
            else:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect("members")
    context = {
        "members": Membership.objects.filter(customer=customer).select_related("user").order_by("user__email"),
        "invitations": Invitation.objects.filter(customer=customer, accepted_at=None, revoked_at=None),
        "form": form,
        "role": role,
        "roles": Role.choices,
        "is_owner": role == Role.OWNER,
    }
    return render(request, "tenants/members.html", context, status=400 if form.errors else 200)


@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, Role.OWNER)
    membership = _membership_in_portal(request, pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(membership=membership, role=Role(form.cleaned_data["role"]))
        except services.MembershipError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect("members")


@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, Role.OWNER)
    membership = _membership_in_portal(request, pk)
    try:
        services.membership_remove(membership=membership)
    except services.MembershipError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.email} was removed.")
    return redirect("members")


@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, Role.OWNER)
    invitation = Invitation.objects.filter(pk=pk, customer=access.current_customer(request)).first()
    if invitation is None:
        raise Http404("No such invitation")
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("members")


AUDIT_PAGE_SIZE = 50


def _audit_action(request: HttpRequest) -> str:
    """The action filter; an unknown value filters nothing rather than failing."""
    action = request.GET.get("action", "")
    return action if action in dict(audit_log.action_choices()) else ""


@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    """The company's audit log, newest first, for owners (and staff)."""
    access.require_role(request, Role.OWNER)
    action = _audit_action(request)
    entries = audit_log.audit_entries(tenant=access.current_customer(request), action=action)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [(entry, audit_log.action_label(entry.action)) for entry in page],
        "action": action,
        "actions": audit_log.action_choices(),
    }
    return render(request, "tenants/audit.html", context)


@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The company's audit log (with the page's action filter) as CSV."""
    access.require_role(request, Role.OWNER)
    customer = access.current_customer(request)
    entries = audit_log.audit_entries(tenant=customer, action=_audit_action(request))
    response = StreamingHttpResponse(audit_log.audit_csv_stream(entries), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{customer.schema_name}-{stamp}.csv"'
    return response
