"""``{% notifications_link %}``: the header's link to the person's notifications, with the count
of unread ones (one query per page; nothing outside a customer portal)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from success.models import Notification
from tenants.models import User

register = template.Library()


@register.simple_tag(takes_context=True)
def notifications_link(context: dict[str, Any]) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or getattr(request, "customer", None) is None or not isinstance(user, User):
        return ""
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    badge = format_html(' <span class="badge" data-testid="unread-badge">{}</span>', unread) if unread else ""
    return format_html(
        '<a href="{}" data-testid="notifications-link">Notifications{}</a>', reverse("notification_list"), badge
    )
