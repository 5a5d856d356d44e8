"""Django admin for finance and account managers: the ledger with filters, CSV export by period,
MRR and revenue by service, partial refunds with a reason, custom quotes, webhook events."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse

from billing import exports, services
from billing.catalog import format_usd
from billing.forms import PeriodForm, RefundForm
from billing.models import Charge, CustomQuote, PaymentMethod, Refund, StripeCustomer, Subscription, WebhookEvent
from billing.signals import custom_quote_issued
from tenants.models import User


class PaymentMethodInline(admin.TabularInline[PaymentMethod, StripeCustomer]):
    model = PaymentMethod
    extra = 0
    can_delete = False
    readonly_fields = ["stripe_id", "brand", "last4", "exp_month", "exp_year", "is_default", "created_at"]


@admin.register(StripeCustomer)
class StripeCustomerAdmin(admin.ModelAdmin[StripeCustomer]):
    list_display = ["customer", "stripe_id", "billing_name", "billing_email", "country"]
    search_fields = ["customer__name", "stripe_id", "billing_email"]
    readonly_fields = ["customer", "stripe_id", "created_at", "updated_at"]
    inlines = [PaymentMethodInline]


class RefundInline(admin.TabularInline[Refund, Charge]):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "amount_cents", "reason", "status", "stripe_refund_id", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin[Charge]):
    list_display = [
        "created_at",
        "customer",
        "project_name",
        "service",
        "milestone",
        "amount_label",
        "status",
        "paid_at",
    ]
    list_filter = ["status", "kind", "service", "customer", ("paid_at", admin.DateFieldListFilter)]
    search_fields = ["customer__name", "project_name", "milestone", "stripe_payment_intent_id", "stripe_charge_id"]
    date_hierarchy = "created_at"
    inlines = [RefundInline]
    actions = ["export_selected"]
    change_list_template = "admin/billing/charge/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Charge]:
        queryset: QuerySet[Charge] = super().get_queryset(request)
        return queryset.select_related("customer")

    def get_readonly_fields(self, request: HttpRequest, obj: Charge | None = None) -> list[str]:
        # The ledger is written by the services only: finance reads it, Stripe is the truth.
        return [field.name for field in Charge._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("export/", self.admin_site.admin_view(self.export_view), name="billing_charge_export"),
            path("summary/", self.admin_site.admin_view(self.summary_view), name="billing_charge_summary"),
            path("<int:pk>/refund/", self.admin_site.admin_view(self.refund_view), name="billing_charge_refund"),
        ]
        return own + super().get_urls()

    @admin.action(description="Export the selected charges to CSV (their paid days)")
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Charge]) -> HttpResponse:
        days = [c.paid_at.date() for c in queryset if c.paid_at is not None]
        if not days:
            self.message_user(request, "None of the selected charges is paid.", messages.WARNING)
            return redirect(request.get_full_path())
        return self._csv(min(days), max(days))

    def _csv(self, start: date, end: date) -> HttpResponse:
        response = HttpResponse(exports.ledger_csv(start=start, end=end), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="agent-hive-ledger-{start}-{end}.csv"'
        return response

    def _period(self, request: HttpRequest) -> PeriodForm:
        start, end = exports.period_default(date.today())
        return PeriodForm(request.GET if "start" in request.GET else None, initial={"start": start, "end": end})

    def export_view(self, request: HttpRequest) -> HttpResponse:
        form = self._period(request)
        if form.is_valid():
            return self._csv(form.cleaned_data["start"], form.cleaned_data["end"])
        context = {**self.admin_site.each_context(request), "form": form, "title": "Export the ledger"}
        return render(request, "admin/billing/charge/export.html", context)

    def summary_view(self, request: HttpRequest) -> HttpResponse:
        form = self._period(request)
        # The heading names the period the form shows: the chosen one, else the form's default.
        start, end = (
            (form.cleaned_data["start"], form.cleaned_data["end"])
            if form.is_valid()
            else exports.period_default(date.today())
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Revenue summary",
            "form": form,
            "start": start,
            "end": end,
            "mrr_label": format_usd(exports.mrr_cents()),
            "rows": exports.revenue_by_service(start=start, end=end),
        }
        return render(request, "admin/billing/charge/summary.html", context)

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        charge = get_object_or_404(Charge, pk=pk)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            assert isinstance(request.user, User)
            try:
                services.refund_partial(
                    charge=charge,
                    amount_cents=form.amount_cents(),
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                )
            except services.BillingError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Refunded {form.cleaned_data['amount']} USD on {charge}.")
                return redirect(reverse("admin:billing_charge_change", args=[charge.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund part of {charge}",
            "charge": charge,
            "form": form,
        }
        return render(request, "admin/billing/charge/refund.html", context)


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin[Refund]):
    list_display = ["created_at", "charge", "kind", "amount_label", "status", "created_by"]
    list_filter = ["kind", "status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["reason", "stripe_refund_id", "charge__project_name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Refund | None = None) -> list[str]:
        return [field.name for field in Refund._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin[Subscription]):
    list_display = ["customer", "project_name", "amount_cents", "status", "cancel_at_period_end", "current_period_end"]
    list_filter = ["status", "cancel_at_period_end"]
    readonly_fields = [
        "stripe_subscription_id",
        "stripe_plan_id",
        "status",
        "cancel_at_period_end",
        "current_period_end",
        "canceled_at",
    ]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin[WebhookEvent]):
    list_display = ["received_at", "type", "stripe_event_id", "processed_at", "attempts", "deliveries"]
    list_filter = ["type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["stripe_event_id", "type"]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEvent | None = None) -> list[str]:
        return [field.name for field in WebhookEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CustomQuote)
class CustomQuoteAdmin(admin.ModelAdmin[CustomQuote]):
    list_display = ["title", "customer", "project_id", "service", "amount_label", "deposit_percent", "accepted_at"]
    list_filter = ["service", "customer"]
    search_fields = ["title", "customer__name"]
    readonly_fields = ["created_by", "created_at", "accepted_at"]

    def save_model(self, request: HttpRequest, obj: CustomQuote, form: Any, change: bool) -> None:
        if not change and isinstance(request.user, User):
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        results = custom_quote_issued.send_robust(
            sender=CustomQuote, schema_name=obj.customer.schema_name, project_id=obj.project_id, custom_quote_id=obj.pk
        )
        for _, result in results:
            if isinstance(result, Exception):
                messages.error(request, f"The quote was saved but not issued to the project: {result}")
