"""The customer's repository of a team augmentation: connecting it, replacing its credential, and
what connecting it starts.

- ``repository_connect`` checks the URL (``agents.remotes.remote_parse``: https, ssh, and file://
  only where the setting allows it), encrypts the deploy key or token (``tenants.secrets``) and
  stores both; the credential is shown to nobody afterwards (its page shows a hint: kind and
  length). Connecting again replaces URL and credential (a rotated token).
- Connecting is what the workflow's first step waits for (``CONNECT_STEP``): it is approved by the
  connection — at once when the step is already waiting, or as soon as it starts to wait — and
  never by hand without one (``projects.orchestration.task_approve`` refuses).
- Sprint 1 of a sprint engagement is charged when the repository is connected
  (``billing.milestones.Trigger.REPOSITORY_CONNECTED``): its work cannot start before.
- ``repository_job_inputs`` is what the agents get: the URL, the *encrypted* credential (opened
  only around the git command that uses it) and when the engagement started.
- ``secrets_rotate`` re-encrypts every stored credential with the first of ``HIVE_SECRET_KEYS``.

Events, audit entries and pages name the URL (which carries no credential: such URLs are refused)
and never the credential.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.remotes import RemoteError, remote_parse
from billing.milestones import Trigger
from projects.delivery.controls import task_approve
from projects.delivery.events import event_append
from projects.delivery.orchestration import WorkflowError
from projects.delivery.workflow import CONNECT_STEP
from projects.models import Event, Project, RepositoryConnection, Service, Task
from projects.scoping.payment_schedule import payments_trigger
from projects.signals import platform_unavailable
from tenants.models import Customer, User
from tenants.secrets import SecretStoreError, secret_encrypt, secret_hint, secret_rotate

log = logging.getLogger(__name__)
MAX_TOKEN_CHARS = 500
_CONNECTOR = "repository connection"


class RepositoryError(Exception):
    """The repository cannot be connected as given; the message says what to fix."""


def _credential_check(scheme: str, credential: str) -> str:
    credential = credential.strip()
    if scheme == "file":
        return credential  # a local test repository needs none; one given is still kept encrypted
    if not credential:
        raise RepositoryError("Give a deploy key (ssh) or an access token (https): the agents push with it.")
    if scheme == "ssh" and not (credential.startswith("-----BEGIN ") and "PRIVATE KEY-----" in credential):
        raise RepositoryError(
            "An ssh:// repository needs the deploy key's private key (-----BEGIN … PRIVATE KEY-----)."
        )
    if scheme == "https" and (len(credential) > MAX_TOKEN_CHARS or any(ch.isspace() for ch in credential)):
        raise RepositoryError(f"An access token is one word of at most {MAX_TOKEN_CHARS} characters.")
    return credential


# What the customer reads when the secret store cannot take a credential (no keys configured, a
# broken key): never the operator's message, which goes to the log and to the account manager.
STORE_UNAVAILABLE = "Connecting repositories is not available right now; your account manager has been told."


def repository_connect(*, project: Project, url: str, credential: str, user: User) -> RepositoryConnection:
    """Connect (or reconnect) the project's repository; see the module docstring."""
    if project.service != Service.AUGMENTATION:
        raise RepositoryError("Only team augmentation works in your repository.")
    try:
        remote = remote_parse(url)
    except RemoteError as error:
        raise RepositoryError(str(error)) from error
    credential = _credential_check(remote.scheme, credential)
    try:
        token = secret_encrypt(credential) if credential else ""
    except SecretStoreError as error:
        # Outside any transaction, so that the escalation raised for staff is kept.
        log.error("repository connection of project %s refused: %s", project.pk, error)
        schema: str = connection.schema_name  # type: ignore[attr-defined]
        platform_unavailable.send(
            sender=RepositoryConnection,
            schema_name=schema,
            project_id=project.pk,
            reason=f"A customer could not connect a repository: {error}",
        )
        raise RepositoryError(STORE_UNAVAILABLE) from error
    return _connection_save(project, remote.url, remote.scheme, credential, token, user)


@transaction.atomic
def _connection_save(
    project: Project, url: str, scheme: str, credential: str, token: str, user: User
) -> RepositoryConnection:
    now = timezone.now()
    existing = RepositoryConnection.objects.select_for_update().filter(project=project).first()
    fields = {
        "url": url,
        "scheme": scheme,
        "credential": token,
        "credential_hint": secret_hint(credential) if credential else "no credential (local repository)",
        "credential_changed_at": now,
    }
    if existing is None:
        repo = RepositoryConnection.objects.create(project=project, connected_by_email=user.email, **fields)
        message = f"{user.email} connected the repository {url}"
    else:
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.save(update_fields=list(fields))
        repo, message = existing, f"{user.email} replaced the repository connection ({url})"
    event_append(project_id=project.pk, kind=Event.Kind.REPOSITORY_CONNECTED, actor=user.email, message=message)
    if existing is None:
        schema: str = connection.schema_name  # type: ignore[attr-defined]
        transaction.on_commit(partial(_connected, schema, project.pk))
    return repo


def _connected(schema_name: str, project_id: int) -> None:
    """After the commit: the waiting step moves on and sprint 1 becomes due (then it is charged)."""
    from projects.broker import payments_charge_send

    with schema_context(schema_name):
        connect_step_approve(project_id)
        if payments_trigger(project_id=project_id, trigger=Trigger.REPOSITORY_CONNECTED):
            payments_charge_send(schema_name, project_id)


def connect_step_approve(project_id: int) -> bool:
    """Approve the project's connect step when it waits and the repository is connected."""
    if not RepositoryConnection.objects.filter(project_id=project_id).exists():
        return False
    task = Task.objects.filter(project_id=project_id, key=CONNECT_STEP, status=Task.Status.AWAITING_APPROVAL).first()
    if task is None:
        return False
    try:
        task_approve(task=task, user=None, actor=_CONNECTOR)
    except WorkflowError:
        return False  # approved meanwhile
    return True


def _approval_requested(sender: type[Event], instance: Event, created: bool, **_: Any) -> None:
    """A connect step that starts to wait on an already connected repository moves on at once."""
    if not created or instance.kind != Event.Kind.APPROVAL_REQUESTED or instance.task_id is None:
        return
    if Task.objects.filter(pk=instance.task_id, key=CONNECT_STEP).exists():
        schema: str = connection.schema_name  # type: ignore[attr-defined]
        transaction.on_commit(partial(_approve_in, schema, instance.project_id))


def _approve_in(schema_name: str, project_id: int) -> None:
    with schema_context(schema_name):
        connect_step_approve(project_id)


def connect_repository_signals() -> None:
    post_save.connect(_approval_requested, sender=Event, dispatch_uid="projects.delivery.repository.approval_requested")


def repository_job_inputs(project_id: int) -> dict[str, str] | None:
    """What the agents get about the repository (the credential still encrypted); None without one."""
    repo = RepositoryConnection.objects.filter(project_id=project_id).first()
    if repo is None:
        return None
    return {"url": repo.url, "secret": repo.credential, "connected_at": repo.connected_at.isoformat()}


def secrets_rotate() -> tuple[int, list[str]]:
    """Re-encrypt every tenant's stored credentials with the first key; returns how many were
    re-encrypted and the rows no key opens (``schema/project``: that customer must connect again),
    which are left as they are."""
    rotated, unreadable = 0, []
    for customer in Customer.objects.exclude(schema_name="public").only("schema_name"):
        with schema_context(customer.schema_name), transaction.atomic():
            for repo in RepositoryConnection.objects.select_for_update().exclude(credential=""):
                try:
                    repo.credential = secret_rotate(repo.credential)
                except SecretStoreError:
                    unreadable.append(f"{customer.schema_name}/{repo.project_id}")
                    continue
                repo.save(update_fields=["credential"])
                rotated += 1
    return rotated, unreadable
