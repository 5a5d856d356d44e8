from django.urls import path

from tenants import views_portal
from tenants.urls_public import urlpatterns as public_patterns

# The login flow is served on portal hosts too, so a signed-out member stays on their portal.
_login_flow = [p for p in public_patterns if p.name not in {"signup", "invitation_accept"}]

urlpatterns = [
    path("members/", views_portal.members, name="members"),
    path("members/<int:pk>/role/", views_portal.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views_portal.member_remove, name="member_remove"),
    path("invitations/<int:pk>/revoke/", views_portal.invitation_revoke, name="invitation_revoke"),
    path("audit/", views_portal.audit, name="audit"),
    path("audit/export.csv", views_portal.audit_export, name="audit_export"),
    *_login_flow,
]
