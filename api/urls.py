"""``/api/``: the OpenAPI 3 schema of ``/api/v1/`` and its docs pages (Swagger UI, Redoc), served
with their scripts from the vendored sidecar package (static files, no CDN). The same on every host:
the schema describes the API, no company's data."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(urlconf="api.urls_v1"), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path(
        "redoc/", SpectacularRedocView.as_view(url_name="api_schema", template_name="api/redoc.html"), name="api_redoc"
    ),
]
