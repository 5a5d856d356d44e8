"""Benchmark: sign up 50 customers through the real signup pages and time each one: the form
(which mails the confirmation link) and the link's button (which provisions and logs in).

Runs against a scratch database (``hive_bench`` on the local PostgreSQL, or ``BENCH_DATABASE_URL``)
with production settings for hashing, and prints median and p95 seconds per signup next to a bare
``CREATE SCHEMA`` + ``DROP SCHEMA`` measured in the same run. Target on this machine: median < 0.6 s,
p95 < 1 s.

    .venv/bin/python bench/provision.py [--signups 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "hive_bench"
os.environ.setdefault("DEBUG", "1")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
os.environ["HIVE_DB_POOL"] = "0"
os.environ.pop("HIVE_TESTING", None)
# One client signs up every company: the per-network signup limit is not what is measured.
os.environ["HIVE_RATE_SIGNUP_IP"] = "1000000/h"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signups", type=int, default=50)
    args = parser.parse_args()

    if "BENCH_DATABASE_URL" not in os.environ:
        recreate_database()
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")
    django.setup()
    import re

    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []

    call_command("migrate_schemas", "--shared", verbosity=0)

    bare: list[float] = []
    with connection.cursor() as cursor:
        for i in range(args.signups):
            start = time.perf_counter()
            cursor.execute(f'CREATE SCHEMA "bare{i}"')
            cursor.execute(f'DROP SCHEMA "bare{i}"')
            bare.append(time.perf_counter() - start)

    signups: list[float] = []
    asks: list[float] = []
    confirms: list[float] = []
    client = Client(HTTP_HOST="hive.localhost")
    client.get("/signup/")  # warm the URL conf and templates, as a running server would be
    for i in range(args.signups):
        data = {
            "company_name": f"Bench Company {i}",
            "subdomain": f"bench-{i}",
            "email": f"owner{i}@bench.test",
            "password": "a-long-enough-bench-password",
        }
        start = time.perf_counter()
        asked = client.post("/signup/", data)
        mailed = time.perf_counter()
        link = re.search(r"http://[^/\s]+(/signup/confirm/\S+/)", str(mail.outbox[-1].body))
        if asked.status_code != 200 or link is None:
            raise SystemExit(f"signup {i} failed: {asked.status_code} {asked.content[:300]!r}")
        response = client.post(link.group(1))
        end = time.perf_counter()
        asks.append(mailed - start)
        confirms.append(end - mailed)
        signups.append(end - start)
        if response.status_code != 302:
            raise SystemExit(f"signup {i} failed: {response.status_code} {response.content[:300]!r}")
        client.logout()

    rows = [
        ("bare CREATE SCHEMA + DROP SCHEMA", bare),
        ("signup (form + link → schema, migrations, domain, owner, login)", signups),
        ("  the form (hash the password, mail the link)", asks),
        ("  the link's button (provision, log in)", confirms),
        ("  of which the first (records the schema image)", signups[:1]),
        ("  the others (replay the stored image)", signups[1:]),
    ]
    print(f"\n{'what':66} {'n':>4} {'median ms':>10} {'p95 ms':>10}")
    for name, values in rows:
        median, p95 = statistics.median(values) * 1000, percentile(values, 95) * 1000
        print(f"{name:66} {len(values):>4} {median:>10.1f} {p95:>10.1f}")
    ratio = statistics.median(signups) / statistics.median(bare)
    print(f"\nsignup median is {ratio:.0f}x the bare schema round trip; target: median < 0.6 s, p95 < 1 s")

    connection.close()
    if "BENCH_DATABASE_URL" not in os.environ:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
