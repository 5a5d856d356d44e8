"""Websocket routes of a customer's portal (mounted by ``hive.asgi``)."""

from django.urls import path

from success.consumers import ProjectDashboardConsumer

websocket_urlpatterns = [
    path("ws/projects/<int:project_id>/", ProjectDashboardConsumer.as_asgi()),
]
