"""``{% notifications_link %}``: the header's link to the person's notifications, with the count
of unread ones (one query per page; nothing outside a customer portal; no count when the connection is not on
the portal's schema, rather than a query of the wrong one)."""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.db import connection
from django.urls import reverse
from django.utils.html import format_html

from success.models import Notification
from tenants.models import User

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def notifications_link(context: dict[str, Any]) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or getattr(request, "customer", None) is None or not isinstance(user, User):
        return ""
    if connection.schema_name != request.customer.schema_name:  # type: ignore[attr-defined]
        # Not on the portal's schema (an error page built on another thread): the link without a count.
        logger.warning("notifications_link outside the schema of %s", request.customer.schema_name)
        return format_html(
            '<a href="{}" data-testid="notifications-link">Notifications</a>', reverse("notification_list")
        )
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    badge = format_html(' <span class="badge" data-testid="unread-badge">{}</span>', unread) if unread else ""
    return format_html(
        '<a href="{}" data-testid="notifications-link">Notifications{}</a>', reverse("notification_list"), badge
    )
