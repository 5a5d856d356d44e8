"""Celery tasks of agents: periodic utilization sampling of the pools."""

from __future__ import annotations

from celery import shared_task

from agents.pools import utilization_sample


@shared_task(name="agents.sample_utilization")
def sample_utilization() -> int:
    return len(utilization_sample())
