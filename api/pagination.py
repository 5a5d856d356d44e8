"""Pages of the API's lists: numbered pages for rows that do not move, a cursor for the event
stream (appended to while it is read: offsets would skip or repeat events)."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request


def _page_size(request: Request, default: int | None, maximum: int) -> int | None:
    """``page_size`` as asked, refused with 400 when it is not a whole number from 1 to ``maximum``
    (DRF would quietly fall back to the default, and a client would not learn its mistake)."""
    values = request.query_params.getlist("page_size")
    if not values:
        return default
    value = values[-1]
    if len(values) > 1 or not value.isdigit() or not 1 <= int(value) <= maximum:
        raise ValidationError({"page_size": [f"A whole number from 1 to {maximum}."]})
    return int(value)


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        return _page_size(request, self.page_size, self.max_page_size)


class EventCursor(CursorPagination):
    # Oldest first, so a client follows the stream by keeping the ``next`` link of its last page.
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int | None:
        return _page_size(request, self.page_size, self.max_page_size)
