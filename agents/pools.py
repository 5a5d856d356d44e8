"""Leasing agents of the platform-wide pools to tenants' tasks, fairly.

This module owns who works on what. A task that needs an agent files a ``LeaseRequest``; the
matcher (``leases_match``) hands free agents to waiting requests:

* the **least-loaded** free agent first (fewest busy seconds), locked with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` so that an agent row another transaction holds (being
  released, heartbeating) is passed over instead of waited for. Matchers of one role take turns
  under a transaction-scoped advisory lock (a few milliseconds each): matchers that skipped each
  other's locked requests would leave agents idle while tasks wait;
* requests are served **fair between tenants**: the tenant holding the fewest agents of the role
  goes first, ties go to the request that became ready first. A tenant with a flood of ready tasks
  therefore cannot starve another one, and every request eventually reaches the head of the queue
  (no starvation), because the number of agents a tenant can hold is bounded by the pool size.

The matcher must run inside the caller's transaction, so that the caller can record the lease on
its own task in the same commit. A request not served stays in the table: nothing is lost when
the broker is flushed, and the periodic sweep matches it again.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, DateTimeField, F, FloatField, QuerySet, Value
from django.db.models.functions import Coalesce, Extract, Greatest
from django.utils import timezone

from agents.models import Agent, AgentPool, LeaseRequest, UtilizationSample
from agents.roles import ROLES, Role

_MATCH_LOCK = 4_711  # advisory lock namespace of the matcher


@dataclass(frozen=True, slots=True)
class Lease:
    agent_id: int
    agent_name: str
    role: str
    schema_name: str
    task_id: int


def pool_ensure(*, role: str) -> AgentPool:
    """The pool of ``role``, made with its default size (and agents) when it does not exist yet."""
    pool = AgentPool.objects.filter(role=role).first()
    if pool is not None:
        return pool
    with transaction.atomic():
        pool, created = AgentPool.objects.get_or_create(
            role=role, defaults={"size": ROLES[Role(role)].default_pool_size}
        )
        if created:
            pool_resize(pool=pool, size=pool.size)
    return pool


def pools_ensure(*, sizes: Mapping[str, int] | None = None) -> list[AgentPool]:
    """Every role's pool; ``sizes`` resizes the named ones (tests, benchmarks, setup)."""
    pools = [pool_ensure(role=role.value) for role in ROLES]
    for pool in pools:
        if sizes and pool.role in sizes and sizes[pool.role] != pool.size:
            pool_resize(pool=pool, size=sizes[pool.role])
    return pools


@transaction.atomic
def pool_resize(*, pool: AgentPool, size: int) -> AgentPool:
    """Give the pool exactly ``size`` active agents: new ones are added, surplus ones retired."""
    pool = AgentPool.objects.select_for_update().get(pk=pool.pk)
    if pool.size != size:
        pool.size = size
        pool.save(update_fields=["size"])
    existing = {agent.number: agent for agent in pool.agents.all()}
    Agent.objects.filter(pool=pool, number__lte=size, active=False).update(active=True)
    Agent.objects.filter(pool=pool, number__gt=size, active=True).update(active=False)
    Agent.objects.bulk_create(
        [Agent(pool=pool, number=number) for number in range(1, size + 1) if number not in existing]
    )
    return pool


def lease_request(
    *, role: str, schema_name: str, task_id: int, ready_at: datetime, not_before: datetime | None = None
) -> None:
    """File (or refresh) the request of one task for an agent of ``role``; idempotent."""
    lease_requests_file(schema_name=schema_name, tasks=[(role, task_id, ready_at)], not_before=not_before)


def lease_requests_file(
    *, schema_name: str, tasks: Iterable[tuple[str, int, datetime]], not_before: datetime | None = None
) -> None:
    """File (or refresh) the requests of several tasks, given as ``(role, task_id, ready_at)``, in
    one statement (an upsert on the one request per task). The role's pool is made by the matcher
    on first demand, not here: this runs for every task that becomes ready."""
    requests = [
        LeaseRequest(
            role=role, schema_name=schema_name, task_id=task_id, ready_at=ready_at, not_before=not_before or ready_at
        )
        for role, task_id, ready_at in tasks
    ]
    if requests:
        LeaseRequest.objects.bulk_create(
            requests,
            update_conflicts=True,
            unique_fields=["schema_name", "task_id"],
            update_fields=["role", "ready_at", "not_before"],
        )


def _requests_delete(requests: QuerySet[LeaseRequest]) -> int:
    # A request has no relations and no delete signals of its own, but django-tenants listens to
    # every model's post_delete, which makes ``delete()`` select the rows before deleting them.
    return requests._raw_delete(requests.db)


def lease_requests_withdraw(*, schema_name: str, task_ids: Iterable[int]) -> int:
    return _requests_delete(LeaseRequest.objects.filter(schema_name=schema_name, task_id__in=list(task_ids)))


# The matcher runs for every task that finishes. Its two locking reads are written out in SQL:
# built through the ORM (a join, a window function, row locks) they took longer to compile than
# to run.
_FREE_AGENTS = """
    SELECT agent.* FROM agents_agent agent JOIN agents_agentpool pool ON pool.id = agent.pool_id
    WHERE pool.role = %s AND agent.active AND agent.lease_task IS NULL
    ORDER BY agent.busy_seconds, agent.number
    FOR UPDATE OF agent SKIP LOCKED
"""
# The requests for ``role`` due by a moment, at most ``limit`` per tenant (its oldest ones), locked.
_WAITING_HEADS = """
    SELECT * FROM agents_leaserequest WHERE id IN (
        SELECT id FROM (
            SELECT id, row_number() OVER (PARTITION BY schema_name ORDER BY ready_at, id) AS rank
            FROM agents_leaserequest WHERE role = %s AND not_before <= %s
        ) ranked WHERE rank <= %s
    )
    ORDER BY ready_at, id
    FOR UPDATE SKIP LOCKED
"""


def _free_agents(role: str) -> list[Agent]:
    """The free agents of ``role``, least loaded first, locked; the pool is made on first demand."""
    agents = list(Agent.objects.raw(_FREE_AGENTS, [role]))
    if not agents and not AgentPool.objects.filter(role=role).exists():
        pool_ensure(role=role)
        agents = list(Agent.objects.raw(_FREE_AGENTS, [role]))
    return agents


def leases_match(*, role: str, now: datetime | None = None) -> list[Lease]:
    """Hand the free agents of ``role`` to the waiting requests; call inside a transaction."""
    if connection.get_autocommit():  # the locks below would end with each statement
        raise transaction.TransactionManagementError("leases_match runs inside the caller's transaction")
    now = now or timezone.now()
    # One matcher per role at a time (until this transaction ends). Without it two matchers lock
    # each other's candidate requests, skip them, and an agent stays idle with tasks waiting.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_MATCH_LOCK, role])
    free = _free_agents(role)
    if not free:
        return []
    # At most len(free) requests of any one tenant can be served now: the oldest of each tenant.
    waiting = list(LeaseRequest.objects.raw(_WAITING_HEADS, [role, now, len(free)]))
    if not waiting:
        return []
    queues: dict[str, deque[LeaseRequest]] = defaultdict(deque)
    for request in waiting:
        queues[request.schema_name].append(request)
    held: dict[str, int] = defaultdict(int)
    if len(queues) > 1:  # the agents tenants already hold decide between tenants; one tenant needs no count
        for row in (
            Agent.objects.filter(pool_id=free[0].pool_id, lease_task__isnull=False)
            .values("lease_schema")
            .annotate(count=Count("pk"))
        ):
            held[row["lease_schema"]] = row["count"]
    # The tenant holding the fewest agents goes next; ties go to the older ready time.
    order = [(held[schema], queue[0].ready_at, queue[0].pk, schema) for schema, queue in queues.items()]
    heapq.heapify(order)
    leases: list[Lease] = []
    served: list[int] = []
    for agent in free:
        if not order:
            break
        _, _, _, schema = heapq.heappop(order)
        request = queues[schema].popleft()
        agent.lease_schema, agent.lease_task, agent.leased_at = schema, request.task_id, now
        agent.leases += 1
        leases.append(Lease(agent.pk, Agent.name_of(role, agent.number), role, schema, request.task_id))
        served.append(request.pk)
        held[schema] += 1
        if queues[schema]:
            head = queues[schema][0]
            heapq.heappush(order, (held[schema], head.ready_at, head.pk, schema))
    taken = free[: len(leases)]
    if len(taken) == 1:  # the usual case, an agent freed by a finished task: a plain update is cheaper
        [agent] = taken
        Agent.objects.filter(pk=agent.pk).update(
            lease_schema=agent.lease_schema, lease_task=agent.lease_task, leased_at=now, leases=agent.leases
        )
    else:
        Agent.objects.bulk_update(taken, ["lease_schema", "lease_task", "leased_at", "leases"])
    _requests_delete(LeaseRequest.objects.filter(pk__in=served))
    return leases


def agent_release(*, agent_id: int, schema_name: str, task_id: int, now: datetime | None = None) -> bool:
    """End the agent's lease on that task (if it still holds it) and book its busy time."""
    now = now or timezone.now()
    # One conditional update: the lease's seconds (never negative) join the agent's busy time.
    seconds = Extract(Value(now, DateTimeField()) - F("leased_at"), "epoch")
    lease_seconds = Coalesce(Greatest(seconds, Value(0.0)), Value(0.0), output_field=FloatField())
    released = Agent.objects.filter(pk=agent_id, lease_schema=schema_name, lease_task=task_id).update(
        busy_seconds=F("busy_seconds") + lease_seconds,
        lease_schema="",
        lease_task=None,
        leased_at=None,
    )
    return bool(released)


def agent_heartbeat(*, agent_id: int, now: datetime | None = None) -> None:
    Agent.objects.filter(pk=agent_id).update(heartbeat_at=now or timezone.now())


def roles_waiting(*, now: datetime | None = None) -> list[str]:
    """Roles with requests that may take an agent now."""
    now = now or timezone.now()
    return list(
        LeaseRequest.objects.filter(not_before__lte=now).values_list("role", flat=True).distinct().order_by("role")
    )


def utilization_sample(*, now: datetime | None = None) -> list[UtilizationSample]:
    """Record each agent's and each pool's busy share since its previous sample."""
    now = now or timezone.now()
    samples: list[UtilizationSample] = []
    for pool in AgentPool.objects.prefetch_related("agents"):
        pool_busy, pool_window = 0.0, 0.0
        for agent in pool.agents.all():
            if not agent.active and not agent.is_leased:
                continue
            previous = UtilizationSample.objects.filter(agent=agent).order_by("-taken_at").first()
            total = agent.busy_until(now)
            if previous is None:
                samples.append(
                    UtilizationSample(
                        pool=pool, agent=agent, taken_at=now, window_seconds=0.0, busy_seconds_total=total
                    )
                )
                continue
            window = (now - previous.taken_at).total_seconds()
            if window <= 0:
                continue
            share = min(max((total - previous.busy_seconds_total) / window, 0.0), 1.0)
            samples.append(
                UtilizationSample(
                    pool=pool,
                    agent=agent,
                    taken_at=now,
                    window_seconds=window,
                    busy_seconds_total=total,
                    utilization=share,
                )
            )
            pool_busy, pool_window = pool_busy + share * window, pool_window + window
        if pool_window > 0:
            samples.append(
                UtilizationSample(
                    pool=pool,
                    taken_at=now,
                    window_seconds=pool_window,
                    busy_seconds_total=pool_busy,
                    utilization=pool_busy / pool_window,
                )
            )
    return UtilizationSample.objects.bulk_create(samples)


def pool_utilization(*, pool: AgentPool, since: timedelta) -> float | None:
    """The pool's mean utilization over the samples of the last ``since``; None without samples."""
    rows = list(
        UtilizationSample.objects.filter(
            pool=pool, agent__isnull=True, taken_at__gte=timezone.now() - since
        ).values_list("busy_seconds_total", "window_seconds")
    )
    window = sum(w for _, w in rows)
    return sum(b for b, _ in rows) / window if window else None
