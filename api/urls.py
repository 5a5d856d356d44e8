"""``/api/``: the OpenAPI 3 schema of ``/api/v1/`` and its docs page (Swagger UI), served with its
scripts from the vendored sidecar package (static files, no CDN) and no inline code. The same on
every host: the schema describes the API, no company's data. (Not Redoc: its bundle loads its
vendor's logo from a CDN and starts its search worker from a blob, both refused by the CSP.)"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(urlconf="api.urls_v1"), name="api_schema"),
    # The split view serves Swagger UI's init script from its own URL (no inline script).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="api/swagger_ui.html"),
        name="api_docs",
    ),
]
