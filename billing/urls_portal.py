"""URLs of the billing page in a customer's portal (included under ``billing/``)."""

from django.urls import path

from billing import views_portal

urlpatterns = [
    path("", views_portal.billing_home, name="billing_home"),
    path("cards/add/", views_portal.billing_card_add, name="billing_card_add"),
    path("cards/setup/", views_portal.billing_setup_begin, name="billing_setup_begin"),
    path("cards/setup/done/", views_portal.billing_setup_finish, name="billing_setup_finish"),
    path("cards/<int:pk>/default/", views_portal.billing_card_default, name="billing_card_default"),
    path("cards/<int:pk>/remove/", views_portal.billing_card_remove, name="billing_card_remove"),
    path("receipts/<int:pk>/", views_portal.billing_receipt, name="billing_receipt"),
    path("charges/<int:pk>/pay/", views_portal.billing_charge_pay, name="billing_charge_pay"),
]
