"""URLs of the account managers' success pages, mounted under ``/admin/success/`` on the public
site; every view goes through ``admin.site.admin_view`` (staff only)."""

from django.contrib import admin
from django.urls import path

from success import admin_views

urlpatterns = [
    path("", admin.site.admin_view(admin_views.operator), name="success_admin_operator"),
    path("escalations/", admin.site.admin_view(admin_views.escalations), name="success_admin_escalations"),
    path(
        "escalations/<slug:schema>/<int:pk>/",
        admin.site.admin_view(admin_views.escalation),
        name="success_admin_escalation",
    ),
    path("projects/<slug:schema>/<int:pk>/", admin.site.admin_view(admin_views.project), name="success_admin_project"),
]
