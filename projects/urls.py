from django.urls import path

from projects import views, views_delivery, views_preview, views_repository, views_scope

urlpatterns = [
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/requirements/", views.requirements_submit, name="requirements_submit"),
    path("projects/<int:pk>/stories/", views.story_add, name="story_add"),
    path("projects/<int:pk>/stories/<int:story_pk>/", views.story_edit, name="story_edit"),
    path("projects/<int:pk>/stories/<int:story_pk>/drop/", views.story_drop, name="story_drop"),
    path("projects/<int:pk>/legacy/", views.legacy_submit, name="legacy_submit"),
    path("projects/<int:pk>/engagement/", views.engagement_submit, name="engagement_submit"),
    path("projects/<int:pk>/pay/", views.project_pay, name="project_pay"),
    path("projects/<int:pk>/repository/", views_repository.repository_page, name="project_repository"),
    path("projects/<int:pk>/deliverable.bundle", views.deliverable_bundle_download, name="deliverable_bundle"),
    path("projects/<int:pk>/deliverable.zip", views.deliverable_zip_download, name="deliverable_zip"),
    path("projects/<int:pk>/tasks/<int:task_pk>/approve/", views_delivery.task_approve, name="task_approve"),
    path("projects/<int:pk>/control/<str:action>/", views_delivery.project_control, name="project_control"),
    path(
        "projects/<int:pk>/tasks/<int:task_pk>/control/<str:action>/",
        views_delivery.task_control,
        name="task_control",
    ),
    path("projects/<int:pk>/tasks/<int:task_pk>/drop/", views_scope.task_drop, name="task_drop"),
    path(
        "projects/<int:pk>/delivery/stories/<int:story_pk>/drop/",
        views_scope.story_drop_view,
        name="delivery_story_drop",
    ),
    path("projects/<int:pk>/delivery/stories/<int:story_pk>/llm/", views_scope.story_llm, name="delivery_story_llm"),
    path(
        "projects/<int:pk>/delivery/stories/<int:story_pk>/correct/",
        views_scope.story_correct_view,
        name="delivery_story_correct",
    ),
    path(
        "projects/<int:pk>/scope-changes/<int:change_pk>/consent/",
        views_scope.scope_change_consent,
        name="scope_change_consent",
    ),
    path("projects/<int:pk>/preview/", views_preview.preview_open, name="project_preview_open"),
    path("projects/<int:pk>/preview/start/", views_preview.preview_start, name="project_preview_start"),
    path("projects/<int:pk>/quotes/", views.quote_create, name="quote_create"),
    path("projects/<int:pk>/quotes/<int:number>/", views.quote_detail, name="quote_detail"),
    path("projects/<int:pk>/quotes/<int:number>/accept/", views.quote_accept, name="quote_accept"),
]
