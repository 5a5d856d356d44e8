"""The portal's side of customer previews: where a project's preview lives and what its origin is,
who may open it and how the browser gets in, the customer's "Start preview", and the sweep that
stops idle and accepted previews. (agents/previews.py runs them; projects/preview_gateway.py
proxies them.)

**The origin.** Each preview has a host of its own, ``<schema>-<project id>.<HIVE_PREVIEW_DOMAIN>``,
never under ``HIVE_DOMAIN`` (hive.preview_domain refuses that configuration): the preview's code
cannot read or set the portal's cookies, and one preview's scripts cannot read another's pages.
Schemas are DNS labels without ``--`` (tenants.subdomains) and never end with a hyphen, so the
last hyphen separates schema and project unambiguously.

**Admission**, the only way onto a preview origin:

1. The project page links to ``preview_open`` on the customer's portal, which checks membership
   like every portal view (staff entries are audited there by the tenant middleware) and redirects
   to ``/__hive__/enter?token=…`` on the preview's host.
2. The token is ``django.core.signing`` output bound to schema, project and user, valid
   ``HIVE_PREVIEW_TOKEN_SECONDS`` and redeemable once (its nonce is recorded in the shared cache).
3. The gateway redeems it for a host-only cookie (HttpOnly, SameSite=Lax) holding a signed
   (schema, project, user) valid ``HIVE_PREVIEW_SESSION_SECONDS``, and checks on every request that
   the user is still an active member of the customer (or staff). Anyone else gets a 404.

Django's signing is the maintained tool for this; what is written here is only which fields are
bound, the salts, and the one-time use.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.previews import (
    Preview,
    preview_deployed,
    preview_get,
    preview_last_active,
    preview_stop,
    previews_found,
    previews_reap,
)
from projects.broker import preview_start_send
from projects.models import Project, Service, Workflow
from tenants.access import membership_for
from tenants.models import Customer, StaffEntry, User

log = logging.getLogger(__name__)

ENTER_PATH = "/__hive__/enter"
COOKIE_NAME = "hive_preview"
_TOKEN_SALT = "hive.preview.enter"  # noqa: S105 - a salt separates uses of SECRET_KEY, it is no secret
_COOKIE_SALT = "hive.preview.cookie"
_LABEL_RE = re.compile(r"^(?P<schema>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)-(?P<project>[1-9][0-9]{0,17})$")


class PreviewUnavailable(Exception):
    """The preview cannot be started now; the message is for the customer."""


# --- where a preview lives -------------------------------------------------------------------------


def preview_home(schema: str, project_id: int) -> Path:
    """The project's preview directory (``projects.storage.project_storage`` + ``preview``)."""
    return Path(settings.HIVE_STORAGE_ROOT) / schema / "projects" / str(project_id) / "preview"


def project_preview_home(project: Project) -> Path:
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    return preview_home(schema, project.pk)


def preview_host(schema: str, project_id: int) -> str:
    return f"{schema}-{project_id}.{settings.HIVE_PREVIEW_DOMAIN}"


def is_preview_host(hostname: str) -> bool:
    domain: str = settings.HIVE_PREVIEW_DOMAIN
    return hostname == domain or hostname.endswith(f".{domain}")


def preview_host_parse(hostname: str) -> tuple[str, int] | None:
    """(schema, project id) of a preview's host name (no port), or None if it names none."""
    suffix = f".{settings.HIVE_PREVIEW_DOMAIN}"
    if not hostname.endswith(suffix):
        return None
    match = _LABEL_RE.match(hostname[: -len(suffix)])
    if match is None or "--" in match["schema"]:
        return None
    return match["schema"], int(match["project"])


# --- what the project page shows -------------------------------------------------------------------


def project_preview_state(project: Project, workflow: Workflow | None) -> dict[str, Any] | None:
    """For the project page: None when the project has no preview to show, else whether it runs
    and whether it can be started again."""
    if project.service != Service.MVP or workflow is None or workflow.status == Workflow.Status.CANCELLED:
        return None
    home = project_preview_home(project)
    running = preview_get(home)
    if running is None and preview_deployed(home) is None:
        return None
    return {"running": running is not None, "revision": running.revision[:10] if running else ""}


# --- admission -------------------------------------------------------------------------------------


def preview_enter_url(*, request: HttpRequest, project: Project, user: User) -> str:
    """Where the portal sends a member who opens the preview: the token exchange on the preview's
    own host, by the scheme and port this request came in on (one ASGI server serves both)."""
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    token = signing.dumps(
        {"s": schema, "p": project.pk, "u": user.pk, "n": secrets.token_urlsafe(16)}, salt=_TOKEN_SALT
    )
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    netloc = preview_host(schema, project.pk) + ("" if port == default else f":{port}")
    return f"{request.scheme}://{netloc}{ENTER_PATH}?token={token}"


def _admitted(user_id: object, schema: str) -> tuple[User, Customer] | None:
    """The user and customer when the user may see this customer's previews now."""
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    customer = Customer.objects.filter(schema_name=schema).first()
    if user is None or customer is None:
        return None
    if membership_for(user, customer) is None and not user.is_staff:
        return None
    return user, customer


def preview_token_redeem(token: str, *, schema: str, project_id: int) -> User | None:
    """The user a valid, unused token of this preview admits, or None. Staff are audited here."""
    try:
        claims = signing.loads(token, salt=_TOKEN_SALT, max_age=settings.HIVE_PREVIEW_TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("s") != schema or claims.get("p") != project_id:
        return None
    nonce = claims.get("n")
    # One use: a link copied from the address bar or a log is worthless afterwards.
    if not isinstance(nonce, str) or not caches["shared"].add(
        f"preview-token:{nonce}", 1, settings.HIVE_PREVIEW_TOKEN_SECONDS + 60
    ):
        return None
    admitted = _admitted(claims.get("u"), schema)
    if admitted is None:
        return None
    user, customer = admitted
    if membership_for(user, customer) is None:  # staff, not a member: the account managers' audit
        StaffEntry.objects.create(user=user, customer=customer, path=f"preview of project {project_id}")
    return user


def preview_cookie_value(*, schema: str, project_id: int, user: User) -> str:
    return signing.dumps({"s": schema, "p": project_id, "u": user.pk}, salt=_COOKIE_SALT)


def preview_cookie_admits(values: list[str], *, schema: str, project_id: int) -> User | None:
    """The user one of the cookie ``values`` admits to this preview now, or None. Every value is
    tried: another preview's page may plant a cookie of the same name for the parent domain."""
    for value in values[:8]:
        try:
            claims = signing.loads(value, salt=_COOKIE_SALT, max_age=settings.HIVE_PREVIEW_SESSION_SECONDS)
        except signing.BadSignature:
            continue
        if isinstance(claims, dict) and claims.get("s") == schema and claims.get("p") == project_id:
            admitted = _admitted(claims.get("u"), schema)
            if admitted is not None:
                return admitted[0]
    return None


# --- starting and stopping ---------------------------------------------------------------------------


def project_preview_start(*, project: Project, user: User) -> None:
    """Start the project's last deployed preview again, in a worker (it takes a second or two)."""
    workflow = Workflow.objects.filter(project=project).first()
    if project.service != Service.MVP or workflow is None:
        raise PreviewUnavailable("This project has no preview.")
    if workflow.status == Workflow.Status.CANCELLED:
        raise PreviewUnavailable("The project was cancelled; its preview cannot be started.")
    home = project_preview_home(project)
    if preview_deployed(home) is None:
        raise PreviewUnavailable("The agents have not deployed a preview of this project yet.")
    if preview_get(home) is not None:
        return
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    log.info("preview of project %s in %s started by %s", project.pk, schema, user.email)
    transaction.on_commit(lambda: preview_start_send(schema, project.pk))


def _stop_reason(schema: str, project_id: int, home: Path, preview: Preview, now: datetime) -> str:
    """Why the sweep stops this preview now ("" to keep it)."""
    if not Customer.objects.filter(schema_name=schema).exists():
        return "the customer is gone"
    with schema_context(schema):
        workflow = Workflow.objects.filter(project_id=project_id).only("status", "finished_at").first()
    if workflow is not None and workflow.status == Workflow.Status.CANCELLED:
        return "the project was cancelled"
    if workflow is not None and workflow.status == Workflow.Status.COMPLETED and workflow.finished_at is not None:
        ends = workflow.finished_at + timedelta(seconds=settings.HIVE_PREVIEW_GRACE_SECONDS)
        # A preview the customer started after the grace ended was wanted: only idleness stops it.
        if now >= ends and preview.started < ends:
            return "accepted"
    if now - preview_last_active(home, preview) > timedelta(seconds=settings.HIVE_PREVIEW_IDLE_SECONDS):
        return "idle"
    return ""


def previews_sweep(*, now: datetime | None = None) -> list[tuple[str, int, str]]:
    """Stop the previews that have been idle too long, and those of projects accepted longer than
    the grace ago; (schema, project id, why) of each stopped."""
    now = now or timezone.now()
    root = Path(settings.HIVE_STORAGE_ROOT)
    previews_reap(root)
    stopped = []
    for home, preview in previews_found(root):
        schema, project_id = home.parent.parent.parent.name, home.parent.name
        if not project_id.isdigit():
            continue
        reason = _stop_reason(schema, int(project_id), home, preview, now)
        if reason and preview_stop(home):
            log.info("preview of project %s in %s stopped: %s", project_id, schema, reason)
            stopped.append((schema, int(project_id), reason))
    return stopped
