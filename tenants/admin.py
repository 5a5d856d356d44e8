"""Django admin for account managers: customers, users, memberships, invitations, staff entries
and the audit trail."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from tenants import audit_log, services
from tenants.models import AuditEntry, Customer, Domain, Invitation, Membership, StaffEntry, User


class DomainInline(admin.TabularInline[Domain, Customer]):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline[Membership, Customer]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ["name", "schema_name", "status", "primary_domain", "member_count", "account_manager", "created_at"]
    list_filter = ["status", "account_manager"]
    search_fields = ["name", "schema_name", "domains__domain"]
    readonly_fields = ["schema_name", "created_at"]
    fields = ["name", "schema_name", "status", "suspended_reason", "account_manager", "created_at"]
    inlines = [DomainInline, MembershipInline]
    actions = ["suspend", "reactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        queryset: QuerySet[Customer] = super().get_queryset(request)
        annotated: QuerySet[Customer] = queryset.select_related("account_manager").annotate(
            n_members=Count("memberships")
        )
        return annotated

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj: Customer) -> int:
        return int(getattr(obj, "n_members", 0))

    @admin.display(description="domain")
    def primary_domain(self, obj: Customer) -> str:
        domain = obj.get_primary_domain()
        return domain.domain if domain else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Customers are made by signup, which provisions schema, domain and owner together.
        return False

    @admin.action(description="Suspend the selected customers (their members see a suspension page)")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        for customer in queryset:
            services.customer_suspend(customer=customer, reason=f"Suspended by {request.user}")
        messages.success(request, f"Suspended {queryset.count()} customer(s). Nothing was deleted.")

    @admin.action(description="Reactivate the selected customers")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        for customer in queryset:
            services.customer_reactivate(customer=customer)
        messages.success(request, f"Reactivated {queryset.count()} customer(s).")


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "customer", "role", "created_at"]
    list_filter = ["role", "customer"]
    search_fields = ["user__email", "customer__name"]
    autocomplete_fields = ["user", "customer"]
    list_select_related = ["user", "customer"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ["email", "customer", "role", "invited_by", "created_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "customer"]
    search_fields = ["email", "customer__name"]
    list_select_related = ["customer", "invited_by"]
    readonly_fields = ["customer", "email", "invited_by", "created_at", "accepted_at", "accepted_by"]


@admin.register(StaffEntry)
class StaffEntryAdmin(admin.ModelAdmin[StaffEntry]):
    list_display = ["entered_at", "user", "customer", "path"]
    list_filter = ["customer", "user"]
    date_hierarchy = "entered_at"
    list_select_related = ["user", "customer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StaffEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StaffEntry | None = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Every customer's audit trail for account managers: read-only (the database refuses changes
    anyway), filterable, exportable as CSV."""

    list_display = ["at", "action", "actor_label", "tenant_label", "ip", "object_type", "object_label"]
    list_filter = ["action", "tenant_label"]
    search_fields = ["actor_label", "tenant_label", "object_label", "ip"]
    date_hierarchy = "at"
    actions = ["export_csv"]
    show_full_result_count = False  # the log grows without bound; count(*) of it on every page is waste

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    @admin.action(description="Export the selected entries as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> StreamingHttpResponse:
        response = StreamingHttpResponse(
            audit_log.audit_csv_stream(queryset.order_by("-at", "-id")), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M}.csv"'
        return response
