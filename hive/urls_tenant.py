"""URL root of a customer's portal at ``<slug>.<HIVE_DOMAIN>``.

The portal's home page is the projects overview of ``success`` (status, progress and health of
every project); it comes before ``projects.urls``, whose own "" route it supersedes.
"""

from django.urls import include, path

from hive.favicon import favicon
from hive.health import healthz
from success.views import overview

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("", overview, name="portal_home"),
    path("billing/", include("billing.urls_portal")),
    path("", include("success.urls")),
    path("", include("projects.urls")),
    path("", include("tenants.urls_portal")),
]
