from django.urls import path

from success import views, views_decisions, views_history

urlpatterns = [
    path("projects/<int:pk>/dashboard/", views.project_dashboard, name="project_dashboard"),
    path("projects/<int:pk>/dashboard/state/", views.project_dashboard_state, name="project_dashboard_state"),
    path("projects/<int:pk>/success/", views.project_success, name="project_success"),
    path("projects/<int:pk>/success/stories/<int:story_pk>/", views.story_decide, name="story_decide"),
    path("projects/<int:pk>/success/surveys/<int:survey_pk>/", views.survey_answer, name="survey_answer"),
    path("projects/<int:pk>/success/guarantee/claim/", views.guarantee_claim, name="guarantee_claim"),
    path("projects/<int:pk>/plan/", views_decisions.project_plan, name="project_plan"),
    path("projects/<int:pk>/decisions/<int:task_pk>/", views_decisions.decision_page, name="decision_page"),
    path(
        "projects/<int:pk>/decisions/<int:task_pk>/approve/", views_decisions.decision_approve, name="decision_approve"
    ),
    path("projects/<int:pk>/history/", views_history.project_history, name="project_history"),
    path("projects/<int:pk>/tasks/<int:task_pk>/", views_history.task_page, name="task_page"),
    path("reports/", views.reports, name="reports"),
    path("reports/preferences/", views.report_preferences, name="report_preferences"),
    path("reports/daily/<int:pk>/", views.daily_summary, name="daily_summary"),
    path("reports/weekly/<int:pk>/", views.weekly_briefing, name="weekly_briefing"),
]
