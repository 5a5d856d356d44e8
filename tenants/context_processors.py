"""Template context every page needs: which portal this is and the user's role in it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, object]:
    customer = getattr(request, "customer", None)
    membership = getattr(request, "membership", None)
    return {
        "customer": customer,
        "membership": membership,
        "is_staff_visit": customer is not None and membership is None and request.user.is_staff,
        "hive_domain": settings.HIVE_DOMAIN,
    }
