"""URL root of the public schema: landing, signup, login, invitations, the staff admin, health."""

from django.contrib import admin
from django.urls import include, path

from hive.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("tenants.urls_public")),
]
