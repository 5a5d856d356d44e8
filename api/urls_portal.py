"""The owners' API-key pages of a company's portal (session-authenticated, unlike ``/api/``)."""

from django.urls import path

from api import views_portal

urlpatterns = [
    path("settings/api-keys/", views_portal.api_keys, name="api_keys"),
    path("settings/api-keys/<str:prefix>/revoke/", views_portal.api_key_revoke_view, name="api_key_revoke"),
]
