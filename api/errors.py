"""The 404 of both URL roots: JSON under ``/api/`` (a client of the API gets the shape its schema
documents, e.g. for ``/api/v1/projects/-1/``, which no route matches), Django's page elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
