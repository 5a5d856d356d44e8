"""Agent pools (agents.pools): least-loaded leasing, fair waiting between tenants, resizing,
SKIP LOCKED between concurrent matchers, and utilization samples."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Agent, AgentPool, LeaseRequest, UtilizationSample
from agents.pools import (
    agent_release,
    lease_request,
    lease_requests_file,
    leases_match,
    pool_ensure,
    pool_resize,
    pools_ensure,
    utilization_sample,
)
from agents.roles import ROLES, Role

DEV = Role.FULLSTACK_DEVELOPER.value


def sized(size: int) -> AgentPool:
    LeaseRequest.objects.all().delete()
    AgentPool.objects.filter(role=DEV).delete()  # whatever earlier tests left in the public schema
    return pool_resize(pool=pool_ensure(role=DEV), size=size)


@pytest.mark.django_db
def test_every_role_gets_a_pool_of_its_default_size():
    AgentPool.objects.all().delete()  # public rows another run may have left behind
    pools = {pool.role: pool for pool in pools_ensure()}
    assert set(pools) == {role.value for role in ROLES}
    assert pools[Role.FULLSTACK_DEVELOPER].size == 5
    assert pools[Role.MODERNIZATION_DEVELOPER].size == 8
    assert pools[Role.QA_ENGINEER].size == 1
    assert Agent.objects.filter(pool=pools[Role.MODERNIZATION_DEVELOPER], active=True).count() == 8


@pytest.mark.django_db
def test_resizing_adds_and_retires_agents():
    pool = sized(4)
    assert Agent.objects.filter(pool=pool, active=True).count() == 4
    pool_resize(pool=pool, size=2)
    assert list(Agent.objects.filter(pool=pool, active=True).values_list("number", flat=True)) == [1, 2]
    pool_resize(pool=pool, size=3)
    assert Agent.objects.filter(pool=pool, active=True).count() == 3
    assert Agent.objects.filter(pool=pool).count() == 5  # retired agents are kept (their history)


@pytest.mark.django_db
def test_it_leases_the_least_loaded_free_agent():
    pool = sized(3)
    Agent.objects.filter(pool=pool, number=1).update(busy_seconds=50)
    Agent.objects.filter(pool=pool, number=2).update(busy_seconds=5)
    Agent.objects.filter(pool=pool, number=3).update(busy_seconds=20)
    lease_request(role=DEV, schema_name="alpha", task_id=1, ready_at=timezone.now())
    [lease] = leases_match(role=DEV)
    assert Agent.objects.get(pk=lease.agent_id).number == 2
    assert not LeaseRequest.objects.exists()


@pytest.mark.django_db
def test_no_agent_is_leased_twice_and_release_books_busy_time():
    sized(1)
    start = timezone.now()
    lease_request(role=DEV, schema_name="alpha", task_id=1, ready_at=start)
    lease_request(role=DEV, schema_name="alpha", task_id=2, ready_at=start)
    [lease] = leases_match(role=DEV, now=start)
    assert leases_match(role=DEV, now=start) == []
    assert agent_release(agent_id=lease.agent_id, schema_name="alpha", task_id=1, now=start + timedelta(seconds=30))
    assert not agent_release(agent_id=lease.agent_id, schema_name="alpha", task_id=1)
    assert Agent.objects.get(pk=lease.agent_id).busy_seconds == pytest.approx(30)
    [second] = leases_match(role=DEV)
    assert second.task_id == 2


@pytest.mark.django_db
def test_a_role_without_a_pool_gets_one_when_its_first_request_is_matched():
    LeaseRequest.objects.all().delete()
    AgentPool.objects.filter(role=DEV).delete()
    start = timezone.now() - timedelta(minutes=1)
    lease_requests_file(schema_name="alpha", tasks=[(DEV, 1, start), (DEV, 2, start + timedelta(seconds=1))])
    assert not AgentPool.objects.filter(role=DEV).exists()  # filing a request is one statement, no pool lookup
    leases = leases_match(role=DEV)
    assert [lease.task_id for lease in leases] == [1, 2]
    assert AgentPool.objects.get(role=DEV).size == ROLES[Role.FULLSTACK_DEVELOPER].default_pool_size


@pytest.mark.django_db
def test_filing_a_request_again_refreshes_it():
    sized(1)
    start = timezone.now()
    lease_request(role=DEV, schema_name="alpha", task_id=1, ready_at=start)
    lease_request(role=DEV, schema_name="alpha", task_id=1, ready_at=start, not_before=start + timedelta(seconds=5))
    request = LeaseRequest.objects.get(schema_name="alpha", task_id=1)
    assert request.not_before == start + timedelta(seconds=5)
    assert leases_match(role=DEV, now=start) == []


@pytest.mark.django_db
def test_tenants_share_a_pool_fairly_and_nobody_starves():
    sized(2)
    start = timezone.now() - timedelta(minutes=1)
    for number in range(1, 7):  # alpha floods the queue first
        lease_request(role=DEV, schema_name="alpha", task_id=number, ready_at=start + timedelta(seconds=number))
    for number in range(1, 3):
        lease_request(role=DEV, schema_name="beta", task_id=number, ready_at=start + timedelta(seconds=10 + number))
    first = leases_match(role=DEV)
    assert sorted((lease.schema_name, lease.task_id) for lease in first) == [("alpha", 1), ("beta", 1)]
    for lease in first:
        agent_release(agent_id=lease.agent_id, schema_name=lease.schema_name, task_id=lease.task_id)
    second = leases_match(role=DEV)
    assert sorted((lease.schema_name, lease.task_id) for lease in second) == [("alpha", 2), ("beta", 2)]
    for lease in second:
        agent_release(agent_id=lease.agent_id, schema_name=lease.schema_name, task_id=lease.task_id)
    third = leases_match(role=DEV)  # beta is done: alpha gets both agents, oldest first
    assert [(lease.schema_name, lease.task_id) for lease in third] == [("alpha", 3), ("alpha", 4)]


@pytest.mark.django_db
def test_a_tenant_holding_agents_waits_behind_one_holding_none():
    sized(3)
    now = timezone.now() - timedelta(minutes=1)
    for number in (1, 2):
        lease_request(role=DEV, schema_name="alpha", task_id=number, ready_at=now)
    leases_match(role=DEV)
    lease_request(role=DEV, schema_name="alpha", task_id=3, ready_at=now)  # older than beta's
    lease_request(role=DEV, schema_name="beta", task_id=1, ready_at=now + timedelta(seconds=5))
    [lease] = leases_match(role=DEV)
    assert (lease.schema_name, lease.task_id) == ("beta", 1)


@pytest.mark.django_db
def test_a_retry_waits_for_its_backoff():
    sized(1)
    now = timezone.now()
    lease_request(role=DEV, schema_name="alpha", task_id=1, ready_at=now, not_before=now + timedelta(seconds=5))
    assert leases_match(role=DEV, now=now) == []
    assert [lease.task_id for lease in leases_match(role=DEV, now=now + timedelta(seconds=6))] == [1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_matchers_never_lease_an_agent_twice():
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # the flush must see public tables
    sized(2)
    now = timezone.now() - timedelta(minutes=1)
    for number in range(1, 5):
        lease_request(role=DEV, schema_name="alpha", task_id=number, ready_at=now + timedelta(seconds=number))
    other: list[object] = []

    def match_elsewhere() -> None:
        try:
            with transaction.atomic():
                other.extend(leases_match(role=DEV))
        finally:
            connection.close()

    with transaction.atomic():
        mine = leases_match(role=DEV)
        assert len(mine) == 2
        thread = threading.Thread(target=match_elsewhere)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()  # it waits for this matcher instead of skipping its requests
    thread.join(timeout=10)
    assert other == []  # and then finds both agents taken
    assert Agent.objects.filter(lease_task__isnull=False).count() == 2
    assert LeaseRequest.objects.count() == 2


@pytest.mark.django_db
def test_utilization_is_sampled_per_agent_and_per_pool():
    pool = sized(2)
    start = timezone.now()
    utilization_sample(now=start)  # the baseline
    assert UtilizationSample.objects.filter(pool=pool, utilization__isnull=True).count() == 2
    lease_request(role=DEV, schema_name="alpha", task_id=1, ready_at=start)
    [lease] = leases_match(role=DEV, now=start)
    utilization_sample(now=start + timedelta(seconds=60))
    busy = UtilizationSample.objects.get(agent_id=lease.agent_id, utilization__isnull=False)
    idle = UtilizationSample.objects.get(pool=pool, utilization__isnull=False, agent__isnull=False, utilization=0)
    assert busy.utilization == pytest.approx(1.0) and idle.agent_id != lease.agent_id
    whole = UtilizationSample.objects.get(pool=pool, agent__isnull=True)
    assert whole.utilization == pytest.approx(0.5)
