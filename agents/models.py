"""Platform-wide agent pools (public schema): pools per role, their agents, the queue of tasks
waiting for an agent, and utilization samples.

An agent is a lease slot of its role's pool: while it holds a lease it works for exactly one task
of one tenant, named by ``lease_schema`` and ``lease_task``. Nothing here knows what a task is;
the tenant schema and the id are opaque to this app.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from agents.roles import ROLES, Role, RoleSpec

ROLE_CHOICES = [(role.value, spec.name) for role, spec in ROLES.items()]


class AgentPool(models.Model):
    role = models.CharField(max_length=40, choices=ROLE_CHOICES, unique=True)
    size = models.PositiveSmallIntegerField(help_text="number of agents of this role on the platform")

    class Meta:
        ordering = ["role"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} pool ({self.size})"

    @property
    def spec(self) -> RoleSpec:
        return ROLES[Role(self.role)]


class Agent(models.Model):
    pool = models.ForeignKey(AgentPool, on_delete=models.CASCADE, related_name="agents")
    number = models.PositiveSmallIntegerField()
    # A pool that shrinks retires its highest-numbered agents; a retired agent finishes its lease.
    active = models.BooleanField(default=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    lease_schema = models.CharField(max_length=63, blank=True)
    lease_task = models.BigIntegerField(null=True, blank=True)
    leased_at = models.DateTimeField(null=True, blank=True)
    # Seconds spent on finished leases; with the running lease it gives the load and utilization.
    busy_seconds = models.FloatField(default=0.0)
    leases = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pool", "number"]
        constraints = [models.UniqueConstraint(fields=["pool", "number"], name="one_agent_number_per_pool")]
        indexes = [models.Index(fields=["pool", "active", "lease_task"], name="agent_free_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_of(self.pool.role, self.number)

    @staticmethod
    def name_of(role: str, number: int) -> str:
        """An agent's name from its role and number, for callers that read no pool row."""
        return f"{role}-{number}"

    @property
    def is_leased(self) -> bool:
        return self.lease_task is not None

    def busy_until(self, now: datetime) -> float:
        """Busy seconds including the lease in progress, as of ``now``."""
        running = (now - self.leased_at).total_seconds() if self.leased_at else 0.0
        return self.busy_seconds + max(running, 0.0)


class LeaseRequest(models.Model):
    """A task of some tenant waiting for an agent of ``role``."""

    role = models.CharField(max_length=40, choices=ROLE_CHOICES)
    schema_name = models.CharField(max_length=63)
    task_id = models.BigIntegerField()
    # When the task became ready: the order in which a tenant's own tasks are served.
    ready_at = models.DateTimeField()
    # A retry after a failure waits for its backoff before it may take an agent.
    not_before = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ready_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["schema_name", "task_id"], name="one_request_per_task")]
        indexes = [models.Index(fields=["role", "not_before"], name="request_role_idx")]

    def __str__(self) -> str:
        return f"{self.schema_name}:{self.task_id} waits for {self.role}"


class UtilizationSample(models.Model):
    """Share of ``window_seconds`` an agent (or, with ``agent`` empty, its whole pool) was busy."""

    pool = models.ForeignKey(AgentPool, on_delete=models.CASCADE, related_name="samples")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.CASCADE, related_name="samples")
    taken_at = models.DateTimeField(default=timezone.now)
    window_seconds = models.FloatField()
    busy_seconds_total = models.FloatField(
        help_text="the agent's cumulative busy seconds when sampled; for a pool, its agents' busy seconds in the window"
    )
    # Empty on an agent's first sample: it is the baseline the next one measures from.
    utilization = models.FloatField(null=True, blank=True, help_text="0..1")

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["pool", "agent", "-taken_at"], name="sample_latest_idx")]

    def __str__(self) -> str:
        share = "baseline" if self.utilization is None else f"{self.utilization:.0%}"
        return f"{self.pool.role} {share} at {self.taken_at:%Y-%m-%d %H:%M}"
