"""``/api/v1/`` of a company's portal host (included at the root of ``hive.urls_tenant``; the
schema view reads its routes from this module)."""

from django.urls import include, path

from api import views

P = "projects/<int:pk>/"


v1 = [
    path("projects/", views.ProjectList.as_view(), name="api_projects"),
    path(P, views.ProjectDetail.as_view(), name="api_project"),
    path(P + "stories/", views.StoryList.as_view(), name="api_stories"),
    path(P + "stories/<int:story_pk>/accept/", views.StoryAccept.as_view(), name="api_story_accept"),
    path(P + "stories/<int:story_pk>/reject/", views.StoryReject.as_view(), name="api_story_reject"),
    path(P + "acceptance/", views.AcceptanceMatrix.as_view(), name="api_acceptance"),
    path(P + "quotes/", views.QuoteList.as_view(), name="api_quotes"),
    path(P + "quotes/<int:number>/", views.QuoteDetail.as_view(), name="api_quote"),
    path(P + "quotes/<int:number>/accept/", views.QuoteAccept.as_view(), name="api_quote_accept"),
    path(P + "tasks/", views.TaskList.as_view(), name="api_tasks"),
    path(P + "tasks/<int:task_pk>/approve/", views.TaskApprove.as_view(), name="api_task_approve"),
    path(P + "approvals/", views.ApprovalList.as_view(), name="api_approvals"),
    path(P + "runs/", views.RunList.as_view(), name="api_runs"),
    path(P + "events/", views.EventList.as_view(), name="api_events"),
    path(P + "gates/", views.GateList.as_view(), name="api_gates"),
    path("reports/daily/", views.DailySummaryList.as_view(), name="api_daily_summaries"),
    path("reports/weekly/", views.WeeklyBriefingList.as_view(), name="api_weekly_briefings"),
    path("charges/", views.ChargeList.as_view(), name="api_charges"),
]

urlpatterns = [path("api/v1/", include(v1))]
