"""Billing tests run against localstripe, started here on a free port with ``--from-scratch``,
through the real ``stripe`` SDK. Each test starts from an empty emulator; webhooks are delivered
by localstripe to the live server and processed by a real Celery worker thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import connection

from billing import gateway
from billing.signals import milestone_failed, milestone_paid, subscription_canceled, subscription_renewal_failed
from hive.celery import app
from tests.billing.billing_world import SECRET_KEY, WEBHOOK_SECRET

BROKER_URL = os.environ.get("HIVE_BILLING_TEST_BROKER_URL", "redis://127.0.0.1:6379/13")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _flush_public_schema(transactional_db: None) -> Iterator[None]:
    """Portal requests leave the connection on a tenant schema; the flush after a transactional
    test only sees the tables of the current schema, so go back to public before it runs."""
    yield
    connection.set_schema_to_public()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _billing_alone() -> Iterator[None]:
    """Billing is tested on its own here: the projects app's receivers (start the workflow on
    payment) would act on whatever project of the shared world has the same id."""
    receivers = [
        (milestone_paid, "projects.delivery.payments.paid"),
        (milestone_failed, "projects.delivery.payments.failed"),
        (subscription_renewal_failed, "projects.delivery.payments.renewal_failed"),
    ]
    for signal, uid in receivers:
        signal.disconnect(dispatch_uid=uid)
    yield
    from projects.delivery.payments import connect_billing_signals

    connect_billing_signals()


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("localstripe did not start") from None
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_emulator(localstripe_url: str, settings: Any, celery_worker_thread: Any) -> str:
    """Point billing at a freshly emptied localstripe; tasks go to the test worker's broker."""
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_hive_billing"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    request = urllib.request.Request(f"{localstripe_url}/_config/data", method="DELETE")
    urllib.request.urlopen(request, timeout=5).read()
    return localstripe_url


@pytest.fixture(scope="session")
def celery_worker_thread() -> Iterator[Any]:
    """A real Celery worker (threads) on a Redis database of its own."""
    app.conf.update(broker_url=BROKER_URL, result_backend=BROKER_URL, task_ignore_result=True)
    # app.pool is kombu's registry pool for the old URL: forget it, never close it — the registry
    # keeps it for that URL, and a producer pool bound to a closed one fails every later send
    # ("Acquire on closed pool") once a test switches back to that URL.
    app._pool = None
    app.amqp._producer_pool = None
    redis.Redis.from_url(BROKER_URL).flushdb()
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20, queues=["celery"]
    ) as worker:
        yield worker


@pytest.fixture
def webhooks_delivered(stripe_emulator: str, live_server: Any, celery_worker_thread: Any) -> Iterator[str]:
    """localstripe delivers its signed events to this test's live server, and stops after it."""
    url = f"{live_server.url}/stripe/webhook/"
    gateway.emulator_webhook_register(url=url, name="tests")
    yield url
    # Later events go nowhere (port 9, discard) instead of reaching the next test's server.
    gateway.emulator_webhook_register(url="http://127.0.0.1:9/", name="tests")


@dataclass
class Sent:
    """Billing signals received, in order, as (signal name, keyword arguments)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [kwargs for signal, kwargs in self.calls if signal == name]


@pytest.fixture
def sent() -> Iterator[Sent]:
    record = Sent()
    receivers = []
    for name, signal in {
        "milestone_paid": milestone_paid,
        "milestone_failed": milestone_failed,
        "subscription_renewal_failed": subscription_renewal_failed,
        "subscription_canceled": subscription_canceled,
    }.items():

        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            with record.lock:
                record.calls.append((_name, kwargs))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield record
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def wait_for(predicate: Any, *, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
