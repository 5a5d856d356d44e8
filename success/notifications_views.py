"""The person's notifications in the portal: the list (unread first in weight, newest first in
order, paged), opening one (marks it read and goes to the page where they act), marking all read,
and the preferences per kind (at once, daily digest, no e-mail).

Every row is the signed-in person's own in the current customer's schema: another member's
notification, or one of another portal, is a 404.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from success.models import Notification, NotificationDelivery, NotificationKind
from success.notifications import preferences_for, preferences_save
from tenants.access import current_customer, require_role
from tenants.models import Role, User

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    require_role(request, Role.VIEWER)
    assert isinstance(request.user, User)
    return request.user


def get_notification_for_user(request: HttpRequest, pk: int) -> Notification:
    row = Notification.objects.filter(pk=pk, user=_user(request)).first()
    if row is None:
        raise Http404("No such notification")
    return row


class PreferencesForm(forms.Form):
    """One choice per kind of notification."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=label, choices=NotificationDelivery.choices, widget=forms.RadioSelect
            )


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = Notification.objects.filter(user=user).select_related("project")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "customer": current_customer(request),
        "page": page,
        "unread": rows.filter(read_at__isnull=True).count(),
    }
    return render(request, "success/notifications/list.html", context)


@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark it read and go to its page, on the host this request came in on (the stored link
    carries the portal's primary host; a redirect never leaves the portal)."""
    row = get_notification_for_user(request, pk)
    if row.read_at is None:
        row.read_at = timezone.now()
        row.save(update_fields=["read_at"])
    target = urlsplit(row.link)
    return redirect(urlunsplit(("", "", target.path or "/", target.query, target.fragment)))


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    done = Notification.objects.filter(user=_user(request), read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{done} notification{'s' if done != 1 else ''} marked read.")
    return redirect("notification_list")


@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            preferences_save(user=user, choices=dict(form.cleaned_data))
            messages.success(request, "Your notification preferences are saved.")
            return redirect("notification_preferences")
        messages.error(request, "Choose one option for every kind of notification.")
        status = 400
    else:
        form = PreferencesForm(initial=preferences_for(user))
        status = 200
    context = {"customer": current_customer(request), "form": form}
    return render(request, "success/notifications/preferences.html", context, status=status)
