"""Pages of the API's lists: numbered pages for rows that do not move, a cursor for the event
stream (appended to while it is read: offsets would skip or repeat events)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class EventCursor(CursorPagination):
    # Oldest first, so a client follows the stream by keeping the ``next`` link of its last page.
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
