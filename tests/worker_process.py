"""A Celery worker in its own process for the crash tests: ``python -m tests.worker_process``.

It registers the test providers, then runs a solo worker on ``HIVE_WORKER_QUEUES``.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")
django.setup()

from hive.celery import app  # noqa: E402
from tests.workers import register_test_providers  # noqa: E402

register_test_providers()
app.worker_main(
    [
        "worker",
        "--pool=solo",
        "--loglevel=warning",
        f"--queues={os.environ.get('HIVE_WORKER_QUEUES', 'agents')}",
        f"--hostname=crashtest-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
)
