from django.contrib.auth import views as auth_views
from django.urls import path

from tenants import views_public
from tenants.urls_account import urlpatterns as account_patterns

urlpatterns = [
    path("signup/", views_public.signup, name="signup"),
    path("signup/confirm/<str:token>/", views_public.signup_confirm, name="signup_confirm"),
    path("login/", views_public.LoginView.as_view(), name="login"),
    path("logout/", views_public.logout_view, name="logout"),
    path("password-reset/", views_public.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="tenants/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views_public.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="tenants/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("invitations/<str:token>/", views_public.invitation_accept, name="invitation_accept"),
    *account_patterns,
]
