"""URL root of the public schema: landing, signup, login, invitations, the staff admin, health."""

from django.contrib import admin
from django.urls import include, path

from billing.views import landing, stripe_webhook
from hive.favicon import favicon
from hive.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/success/", include("success.urls_admin")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("", landing, name="landing"),
    path("", include("tenants.urls_public")),
]

handler400 = "hive.errors.bad_request"
handler403 = "hive.errors.permission_denied"
handler404 = "hive.errors.not_found"
handler500 = "hive.errors.server_error"
