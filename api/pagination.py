"""Pages of the API's lists: numbered pages for rows that do not move, a cursor for the event
stream (appended to while it is read: offsets would skip or repeat events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

INVALID_CURSOR = "Invalid cursor: keep the next or previous link of a page."


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

    def decode_cursor(self, request: Request) -> Cursor | None:
        """The cursor asked for, or 400 when no page gave it out.

        DRF answers a cursor it cannot decode with 404 and passes any ``p=`` on to the query, where
        a position that is not a number failed as a 500. The position of a page's link is an event
        id (``ordering`` is the primary key); anything else is refused here.
        """
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
        if cursor is not None and cursor.position is not None:
            position = str(cursor.position)
            if not (position.isascii() and position.isdigit() and len(position) <= 18):
                raise ValidationError({"cursor": [INVALID_CURSOR]})
        return cursor

    def paginate_queryset(
        self, queryset: QuerySet[Any, Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        # A well-formed position that is no event of this stream would answer an empty page with
        # a ``previous`` link made up from it.
        cursor = self.decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and isinstance(queryset, QuerySet) and not queryset.filter(pk=int(position)).exists():
            raise ValidationError({"cursor": [INVALID_CURSOR]})
        return super().paginate_queryset(queryset, request, view)
