"""What a customer reads of logs and outputs carries no secret and no internal address
(red-team finding: the task log's sanitiser let credentials in URLs, ``…_KEY=`` assignments, DSNs,
token shapes, private IPs, ``file://`` URLs, Windows paths and relative storage paths through).

There is one sanitiser, ``projects.delivery.faults.customer_text``: event messages, the task log, run
errors and blocked reasons all go through it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from projects.delivery.events import event_append
from projects.delivery.faults import customer_text
from projects.models import Event, Run
from tests.success.delivery import delivery_make
from tests.world import World

GHP = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"

LEAKS = [
    (f"fatal: unable to access 'https://x-access-token:{GHP}@github.com/team/app.git/'", [GHP, "x-access-token"]),
    (f"remote: https://{GHP}@github.com/team/app.git", [GHP]),
    ("OPENAI_API_KEY=sk-abc123def456ghi789jkl012 make test", ["sk-abc123def456ghi789jkl012"]),
    ("export STRIPE_SECRET_KEY='sk_live_51Habcdefghijklmnop'", ["sk_live_51Habcdefghijklmnop"]),
    ("TOKEN=tok-9f8e7d6c SECRET=s3cr3t-value PASSWORD=hunter2!", ["tok-9f8e7d6c", "s3cr3t-value", "hunter2!"]),
    ('settings: {"db_password": "pa55w0rd", "api_key": "k-123456"}', ["pa55w0rd", "k-123456"]),
    ("DATABASE_PASSWORD: correct-horse", ["correct-horse"]),
    ("could not connect to postgres://hive:pw-db-42@db.internal:5432/hive", ["pw-db-42", "db.internal"]),
    ("redis://:redispass@10.2.3.4:6379/0 refused", ["redispass", "10.2.3.4"]),
    ("slack said invalid_auth for xoxb-123456789012-abcdefABCDEF", ["xoxb-123456789012-abcdefABCDEF"]),
    (f"token {GHP} rejected", [GHP]),
    ("sk-proj-AbCdEfGhIjKlMnOpQrStUvWx is not valid", ["sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"]),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", ["eyJhbGciOiJIUzI1NiJ9"]),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", ["b3BlbnNzaC1rZXk"]),
    ("AWS AKIAIOSFODNN7EXAMPLE denied", ["AKIAIOSFODNN7EXAMPLE"]),
    ("timeout talking to 10.0.4.7:8080 and 169.254.169.254", ["10.0.4.7", "169.254.169.254"]),
    ("listening on 127.0.0.1:5432 and 192.168.1.20", ["127.0.0.1", "192.168.1.20"]),
    ("cannot open file:///srv/hive/var/storage/tenant_beta/projects/3/app.py", ["/srv/hive", "tenant_beta"]),
    (r"error at C:\Users\builder\hive\secrets\key.pem line 3", [r"C:\Users", "builder"]),
    (r"share \\fileserver\hive\tenant_beta\dump.sql", ["fileserver", "tenant_beta"]),
    ("wrote var/storage/tenant_beta/projects/9/workspace/app.py", ["var/storage", "tenant_beta"]),
    ("see /etc/hive/settings.ini and /proc/self/environ", ["/etc/hive", "/proc/self"]),
]


@pytest.mark.parametrize(("text", "secrets"), LEAKS, ids=[str(n) for n in range(len(LEAKS))])
def test_customer_text_removes_secrets_internal_addresses_and_paths(text: str, secrets: list[str]) -> None:
    shown = customer_text(text)
    for secret in secrets:
        assert secret not in shown, shown


@pytest.mark.parametrize(
    "text",
    [
        "3 tests failed in tests/test_story_001.py",
        "Show the /home page",
        "see https://example.test/a/b and docs/architecture.md",
        "The primary key of the orders table is id; passwd: denied",
        "version 1.2.3 on 8.8.8.8 passed 12 of 13",
        "password reset e-mail sent to the user",
        "GET /api/v1/users answered 200",
        "Preview ready at http://alpha-3.preview.localhost:8000/ and https://alpha.hive.localhost/app/x",
        "the storage/retrieval layer is done",
    ],
)
def test_ordinary_words_stay(text: str) -> None:
    assert customer_text(text) == text


def test_the_redactions_say_what_was_there() -> None:
    assert customer_text("TOKEN=abc123") == "TOKEN=[redacted]"
    assert customer_text("at 10.0.0.5") == "at [internal address]"
    assert customer_text("db on localhost:5432.") == "db on [internal address]:5432."
    assert customer_text("open file:///srv/x/app.py") == "open …/app.py"


@pytest.mark.django_db
def test_the_task_page_and_the_event_stream_show_none_of_it(world: World) -> None:
    text = "\n".join(line for line, _ in LEAKS)
    with schema_context("alpha"):
        delivery = delivery_make("Leaky", tasks=2)
        task = delivery.tasks[0]
        start = timezone.now() - timedelta(minutes=5)
        run = Run.objects.create(
            task=task,
            attempt=7,
            agent_name="dev-1",
            provider="builtin",
            status=Run.Status.FAILED,
            started_at=start,
            finished_at=start + timedelta(seconds=3),
            error=text,
        )
        stored = event_append(
            project_id=delivery.project.pk, kind=Event.Kind.TASK_REPORT, message=text, task=task, run=run
        )
    url = reverse("task_page", urlconf="hive.urls_tenant", args=[delivery.project.pk, task.pk])
    page = world.client("alpha_viewer", on="alpha").get(url).content.decode()
    for _, secrets in LEAKS:
        for secret in secrets:
            assert secret not in page and secret not in stored.message, secret
    staff = world.client("staff", on="alpha").get(url).content.decode()
    assert "hunter2!" in staff  # account managers see the error as written
