from django.urls import path

from success import views

urlpatterns = [
    path("projects/<int:pk>/dashboard/", views.project_dashboard, name="project_dashboard"),
    path("projects/<int:pk>/dashboard/state/", views.project_dashboard_state, name="project_dashboard_state"),
]
