"""The person's own account pages, served on the apex and on every portal host (the session is
shared, so a second factor confirmed on one host holds on all)."""

from django.urls import path

from tenants import views_account

urlpatterns = [
    path("account/", views_account.account, name="account"),
    path("account/two-factor/setup/", views_account.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/verify/", views_account.two_factor_verify, name="two_factor_verify"),
    path(
        "account/two-factor/recovery-codes/",
        views_account.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path("account/two-factor/disable/", views_account.two_factor_disable, name="two_factor_disable"),
    path("account/reauthenticate/", views_account.reauthenticate, name="reauthenticate"),
    path("account/email/send/", views_account.email_verification_send, name="email_verification_send"),
    path("account/email/<str:token>/", views_account.email_verify, name="email_verify"),
]
