"""Django admin for account managers: pool sizes per role, agents and their leases, the waiting
queue and utilization samples. Changing a pool's size adds or retires agents at once."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from agents.models import Agent, AgentPool, LeaseRequest, UtilizationSample
from agents.pools import pool_resize


@admin.register(AgentPool)
class AgentPoolAdmin(admin.ModelAdmin[AgentPool]):
    list_display = ["role", "size", "active_agents", "leased_agents", "skills"]
    list_editable = ["size"]
    readonly_fields = ["skills"]
    fields = ["role", "size", "skills"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentPool]:
        queryset: QuerySet[AgentPool] = super().get_queryset(request)
        annotated: QuerySet[AgentPool] = queryset.annotate(
            n_active=Count("agents", filter=Q(agents__active=True)),
            n_leased=Count("agents", filter=Q(agents__lease_task__isnull=False)),
        )
        return annotated

    @admin.display(description="active agents")
    def active_agents(self, pool: AgentPool) -> int:
        return int(getattr(pool, "n_active", 0))

    @admin.display(description="working now")
    def leased_agents(self, pool: AgentPool) -> int:
        return int(getattr(pool, "n_leased", 0))

    @admin.display(description="skills")
    def skills(self, pool: AgentPool) -> str:
        return "; ".join(pool.spec.skills)

    def save_model(self, request: HttpRequest, obj: AgentPool, form: ModelForm[AgentPool], change: bool) -> None:
        super().save_model(request, obj, form, change)
        pool_resize(pool=obj, size=obj.size)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin[Agent]):
    list_display = ["__str__", "active", "lease_schema", "lease_task", "leased_at", "heartbeat_at", "busy_seconds"]
    list_filter = ["pool", "active"]
    readonly_fields = ["pool", "number", "heartbeat_at", "lease_schema", "lease_task", "leased_at", "busy_seconds"]
    list_select_related = ["pool"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # agents come from the pool size


@admin.register(LeaseRequest)
class LeaseRequestAdmin(admin.ModelAdmin[LeaseRequest]):
    list_display = ["role", "schema_name", "task_id", "ready_at", "not_before"]
    list_filter = ["role", "schema_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UtilizationSample)
class UtilizationSampleAdmin(admin.ModelAdmin[UtilizationSample]):
    list_display = ["pool", "agent", "taken_at", "window_seconds", "utilization"]
    list_filter = ["pool"]
    list_select_related = ["pool", "agent__pool"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
