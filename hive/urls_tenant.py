"""URL root of a customer's portal at ``<slug>.<HIVE_DOMAIN>``."""

from django.urls import include, path

from hive.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("projects.urls")),
    path("", include("tenants.urls_portal")),
]
