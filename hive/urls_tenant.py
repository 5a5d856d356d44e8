"""URL root of a customer's portal at ``<slug>.<HIVE_DOMAIN>``.

The REST API (``api``) is at ``/api/v1/`` with its schema and docs under ``/api/``; a URL under
``/api/`` that matches no route answers 404 in JSON like the API's own errors.

The portal's home page is the projects overview of ``success`` (status, progress and health of
every project), the one "" route.
"""

from django.urls import include, path

from hive.favicon import favicon
from hive.health import healthz
from success.views import overview

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("", overview, name="portal_home"),
    path("", include("api.urls_v1")),
    path("api/", include("api.urls")),
    path("", include("api.urls_portal")),
    path("billing/", include("billing.urls_portal")),
    path("", include("success.urls")),
    path("", include("projects.urls")),
    path("", include("tenants.urls_portal")),
]

handler400 = "hive.errors.bad_request"
handler403 = "hive.errors.permission_denied"
handler404 = "hive.errors.not_found"
handler500 = "hive.errors.server_error"
