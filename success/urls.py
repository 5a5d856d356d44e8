from django.urls import path

from success import notifications_views, views, views_criteria, views_decisions, views_history

urlpatterns = [
    path("projects/<int:pk>/dashboard/", views.project_dashboard, name="project_dashboard"),
    path("projects/<int:pk>/dashboard/state/", views.project_dashboard_state, name="project_dashboard_state"),
    path("projects/<int:pk>/success/", views.project_success, name="project_success"),
    path("projects/<int:pk>/success/stories/<int:story_pk>/", views.story_decide, name="story_decide"),
    path(
        "projects/<int:pk>/success/stories/<int:story_pk>/criteria/<int:index>/waive/",
        views_criteria.criterion_waive,
        name="criterion_waive",
    ),
    path(
        "projects/<int:pk>/success/stories/<int:story_pk>/criteria/<int:index>/evidence/",
        views_criteria.criterion_evidence,
        name="criterion_evidence",
    ),
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
    path("reports/weekly/now/", views.weekly_briefing_now, name="weekly_briefing_now"),
    path("projects/<int:pk>/reports/daily/now/", views.daily_summary_now, name="daily_summary_now"),
    path("notifications/", notifications_views.notification_list, name="notification_list"),
    path("notifications/<int:pk>/open/", notifications_views.notification_open, name="notification_open"),
    path("notifications/read/", notifications_views.notification_read_all, name="notification_read_all"),
    path("notifications/preferences/", notifications_views.notification_preferences, name="notification_preferences"),
]
