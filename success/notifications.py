"""Notifications: what a customer's people are told, by e-mail and in the portal's list, each with
the page where they act (an absolute link on the customer's own portal host).

**One registry.** Every notification starts from one *occurrence* named by a *source* string, and
``RULES`` maps each source to a ``Rule``: the notification kind (what people choose preferences
for), who is told (``Audience``), the page to act on, the words of the button, and optionally a
condition. The sources:

* a committed event of the project stream (``projects.Event``), named by its kind: the
  ``post_save`` receiver in ``success.receivers`` hands every new event to ``event_notify`` after
  its commit, in the event's schema;
* success's own records: a survey opened (``survey.opened``), a guarantee opened or decided
  (``guarantee.opened``, ``guarantee.decided``) — ``post_save`` of those models, connected here;
* billing's payment notices (``payment.receipt``, ``payment.failure``) through
  ``billing.signals.payment_notice``: the receiver answers True, and billing then leaves the
  mail to these preferences (without success connected, billing mails the owners itself).

Adding an event kind is one line in ``RULES`` (the kind's string is the key; nothing else to
change — a kind not in ``RULES`` notifies nobody)::

    "scope.dropped": Rule(K.SCOPE_CHANGE, TEAM, project_page, "Review the scope"),

**Preferences** (``NotificationPreference``, per person and kind): ``immediately`` (the default:
one e-mail now), ``digest`` (one e-mail a day with everything of that day, beat task
``success.notification_digests``) or ``off`` (no e-mail). Every notification is kept in the
person's in-portal list whatever the preference, so what waits for them is never lost.

**Once.** A notification row is unique per (person, occurrence key): an event seen twice, or a
survey saved again, tells nobody twice.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.signals import payment_notice
from projects.models import Event, Phase, Project, ScopeChange
from success.links import portal_url
from success.models import (
    Guarantee,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
    Survey,
)
from success.satisfaction import PREVIEW_PHASE
from tenants.models import Customer, Membership, Role, User

log = logging.getLogger(__name__)
K = NotificationKind


class Audience(enum.Enum):
    OWNERS = "owners"  # the people who approve and pay
    TEAM = "team"  # owners and members: the people who decide and answer surveys
    EVERYONE = "everyone"  # every member, viewers too
    ACCOUNT_MANAGER = "account_manager"  # the customer's account manager (staff)


OWNERS, TEAM, EVERYONE, ACCOUNT_MANAGER = Audience.OWNERS, Audience.TEAM, Audience.EVERYONE, Audience.ACCOUNT_MANAGER
_ROLES = {
    Audience.OWNERS: [Role.OWNER],
    Audience.TEAM: [Role.OWNER, Role.MEMBER],
    Audience.EVERYONE: [Role.OWNER, Role.MEMBER, Role.VIEWER],
}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One thing that happened, as the registry reads it."""

    source: str
    key: str  # unique per occurrence in the schema: "event:12", "survey:3"
    project: Project | None
    title: str
    body: str = ""
    task_id: int | None = None
    phase_key: str = ""
    path: str = ""  # the page to act on, when the source knows it (billing's receipt)
    data: dict[str, Any] = field(default_factory=dict)


def _url(name: str, *args: object) -> str:
    return reverse(name, urlconf="hive.urls_tenant", args=list(args))


def project_page(o: Occurrence) -> str:
    assert o.project is not None
    return _url("project_detail", o.project.pk)


def approval_page(o: Occurrence) -> str:
    """The approval's own page (its decision and controls), or the project page without a task."""
    assert o.project is not None
    return _url("decision_page", o.project.pk, o.task_id) if o.task_id else project_page(o)


def preview_page(o: Occurrence) -> str:
    return project_page(o) + "#preview"


def dashboard_page(o: Occurrence) -> str:
    assert o.project is not None
    return _url("project_dashboard", o.project.pk)


def success_page(anchor: str) -> Callable[[Occurrence], str]:
    def page(o: Occurrence) -> str:
        assert o.project is not None
        return _url("project_success", o.project.pk) + anchor

    return page


def given_page(o: Occurrence) -> str:
    return o.path or "/"


@dataclass(frozen=True, slots=True)
class Rule:
    kind: NotificationKind
    audience: Audience
    page: Callable[[Occurrence], str]
    action: str
    when: Callable[[Occurrence], bool] | None = None


RULES: dict[str, Rule] = {
    "approval.requested": Rule(K.APPROVAL_NEEDED, OWNERS, approval_page, "Review and approve"),
    "task.blocked": Rule(K.TASK_BLOCKED, TEAM, dashboard_page, "Open the dashboard"),
    "task.escalated": Rule(K.TASK_BLOCKED, TEAM, dashboard_page, "Open the dashboard"),
    # scope.dropped / scope.consented: the kinds issue #14's scope-drop consent appends.
    # The owners decide on a drop (their consent): they get its own e-mail (emails/scope_dropped_*).
    "scope.dropped": Rule(K.SCOPE_CHANGE, OWNERS, project_page, "Review the scope change and decide"),
    "scope.consented": Rule(K.SCOPE_CHANGE, TEAM, project_page, "See the scope"),
    "phase.completed": Rule(
        K.PREVIEW_READY, EVERYONE, preview_page, "Open the preview", when=lambda o: o.phase_key == PREVIEW_PHASE
    ),
    "project.completed": Rule(K.DELIVERY_DONE, EVERYONE, success_page("#acceptance"), "See the delivery"),
    "survey.opened": Rule(K.SURVEY_OPEN, TEAM, success_page("#satisfaction"), "Answer the survey"),
    "guarantee.opened": Rule(K.GUARANTEE, OWNERS, success_page("#guarantee"), "See the guarantee"),
    "guarantee.decided": Rule(K.GUARANTEE, OWNERS, success_page("#guarantee"), "See the decision"),
    "payment.receipt": Rule(K.PAYMENT_RECEIPT, OWNERS, given_page, "See the receipt"),
    "payment.failure": Rule(K.PAYMENT_FAILURE, OWNERS, given_page, "Pay now"),
}


# --- who is told, and how -----------------------------------------------------------------------


def _customer() -> Customer:
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    customer: Customer = Customer.objects.select_related("account_manager").get(schema_name=schema)
    return customer


def recipients(customer: Customer, audience: Audience) -> list[User]:
    """The active people of ``audience`` for this customer, by e-mail."""
    if audience is Audience.ACCOUNT_MANAGER:
        manager = customer.account_manager
        return [manager] if manager is not None and manager.is_active else []
    users = User.objects.filter(
        pk__in=Membership.objects.filter(customer=customer, role__in=_ROLES[audience]).values("user_id"),
        is_active=True,
    )
    return list(users.order_by("email"))


def preferences_of(users: Iterable[User], kind: str) -> dict[int, str]:
    rows = NotificationPreference.objects.filter(user_id__in=[u.pk for u in users], kind=kind)
    return {row.user_id: row.delivery for row in rows if row.user_id is not None}


def preferences_for(user: User) -> dict[str, str]:
    """Every kind with this person's choice (at once where they made none)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, NotificationDelivery.IMMEDIATELY) for kind in NotificationKind.values}


def preferences_save(*, user: User, choices: dict[str, str]) -> None:
    for kind, delivery in choices.items():
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})


# --- telling ------------------------------------------------------------------------------------


def notify(occurrence: Occurrence) -> list[Notification]:
    """Tell everyone the registry names about ``occurrence`` (once each), by their preference.
    Runs after the occurrence's commit, in its schema."""
    rule = RULES.get(occurrence.source)
    if rule is None or (rule.when is not None and not rule.when(occurrence)):
        return []
    customer = _customer()
    people = recipients(customer, rule.audience)
    if not people:
        return []
    link = portal_url(customer.schema_name, rule.page(occurrence))
    chosen = preferences_of(people, rule.kind)
    made: list[Notification] = []
    for user in people:
        delivery = chosen.get(user.pk, NotificationDelivery.IMMEDIATELY)
        row = _record(occurrence, rule, user=user, link=link, delivery=delivery)
        if row is None:
            continue
        made.append(row)
        if delivery == NotificationDelivery.IMMEDIATELY:
            try:
                _mail_one(row, customer, occurrence)
            except Exception:  # the others are still told; the row stays in the list, not e-mailed
                log.exception("notification %s to %s could not be e-mailed", row.key, row.email)
    return made


def _record(occurrence: Occurrence, rule: Rule, *, user: User, link: str, delivery: str) -> Notification | None:
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user=user,
                email=user.email,
                kind=rule.kind,
                project=occurrence.project,
                title=f"{rule.kind.label}: {occurrence.title}"[:300],
                body=occurrence.body,
                link=link,
                action=rule.action,
                key=occurrence.key,
                delivery=delivery,
            )
    except IntegrityError:  # told already
        return None


def _mail_one(row: Notification, customer: Customer, occurrence: Occurrence) -> None:
    """The person's e-mail: the source's own (billing's receipt) where it has one, else ours."""
    context: dict[str, Any] = {
        "customer": customer,
        "notification": row,
        "kind": row.get_kind_display(),
        "preferences_link": portal_url(customer.schema_name, _url("notification_preferences")),
    }
    template = str(occurrence.data.get("template") or "notification")
    mail_now(template, row.email, {**occurrence.data.get("context", {}), **context})
    Notification.objects.filter(pk=row.pk).update(emailed_at=timezone.now())


def mail_now(name: str, to: str, context: dict[str, Any]) -> None:
    """Send ``emails/<name>_*`` now. ``tenants.emails.send_templated_email`` waits for a commit;
    notifications are made after the commit already, and a failure must be seen here, per person,
    so the row says it was not e-mailed. The text parts are rendered without HTML escaping, the
    HTML part with it."""

    def plain(part: str) -> str:
        template = get_template(f"emails/{name}_{part}.txt").template  # type: ignore[attr-defined]
        rendered: str = template.render(Context(context, autoescape=False))
        return rendered

    message = EmailMultiAlternatives(
        " ".join(plain("subject").split()), plain("body"), settings.DEFAULT_FROM_EMAIL, [to]
    )
    message.attach_alternative(render_to_string(f"emails/{name}_body.html", context), "text/html")
    message.send()


def digests_send(*, now: Any = None) -> int:
    """Mail each person of this schema one digest of their notifications waiting for it."""
    now = now or timezone.now()
    waiting = list(
        Notification.objects.filter(delivery=NotificationDelivery.DIGEST, emailed_at__isnull=True)
        .select_related("project")
        .order_by("email", "created_at", "pk")
    )
    if not waiting:
        return 0
    customer = _customer()
    per_person: dict[str, list[Notification]] = {}
    for row in _still_wanted(customer, waiting):
        per_person.setdefault(row.email, []).append(row)
    preferences = portal_url(customer.schema_name, _url("notification_preferences"))
    sent = 0
    for email, rows in per_person.items():
        context = {"customer": customer, "notifications": rows, "count": len(rows), "preferences_link": preferences}
        try:
            mail_now("notification_digest", email, context)
        except Exception:  # tried again at the next digest
            log.exception("the notification digest to %s could not be e-mailed", email)
            continue
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(emailed_at=now)
        sent += 1
    return sent


def _still_wanted(customer: Customer, rows: list[Notification]) -> list[Notification]:
    """The rows whose person still belongs here (a member, or the account manager) and has not
    turned the kind's e-mail off since; the others leave the digest for good."""
    people = set(Membership.objects.filter(customer=customer, user__is_active=True).values_list("user_id", flat=True))
    if customer.account_manager_id is not None:
        people.add(customer.account_manager_id)
    off = set(NotificationPreference.objects.filter(delivery=NotificationDelivery.OFF).values_list("user_id", "kind"))
    wanted = [row for row in rows if row.user_id in people and (row.user_id, row.kind) not in off]
    dropped = [row.pk for row in rows if row not in wanted]
    if dropped:
        Notification.objects.filter(pk__in=dropped).update(delivery=NotificationDelivery.OFF)
    return wanted


# --- sources ------------------------------------------------------------------------------------


def _event_mail(event: Event) -> dict[str, Any]:
    """The e-mail of an event kind that has its own template (a scope drop: what, why, the credit)."""
    if event.kind != Event.Kind.SCOPE_DROPPED:
        return {}
    change = ScopeChange.objects.select_related("project").filter(pk=event.data.get("scope_change_id")).first()
    return {"template": "scope_dropped", "context": {"change": change}} if change is not None else {}


def event_occurrence(event: Event) -> Occurrence:
    phase = Phase.objects.filter(pk=event.phase_id).first() if event.phase_id is not None else None
    phase_key = phase.key if phase is not None else ""
    return Occurrence(
        source=event.kind,
        key=f"event:{event.pk}",
        project=event.project,
        title=event.project.name + (f" — {event.message}" if event.message else ""),
        body=event.message,
        task_id=event.task_id,
        phase_key=phase_key,
        data=_event_mail(event),
    )


def event_notify(*, schema_name: str, event_id: int) -> None:
    """After an event's commit: the notifications its kind calls for; a decision made settles
    the "Approval needed" notifications of its task."""
    with schema_context(schema_name):
        event = Event.objects.select_related("project").filter(pk=event_id).first()
        if event is None:
            return
        if event.kind in RULES:
            notify(event_occurrence(event))
        if event.kind in _SETTLING and event.task_id is not None:
            approvals_settle(event.project, event.task_id)


# Kinds that decide an approval: its "Approval needed" notifications are no longer news.
_SETTLING = frozenset({Event.Kind.APPROVAL_GRANTED, Event.Kind.TASK_CANCELLED})


def approvals_settle(project: Project, task_id: int) -> int:
    """Mark read every unread "Approval needed" notification of the task's approval requests."""
    requested = Event.objects.filter(project=project, task_id=task_id, kind=Event.Kind.APPROVAL_REQUESTED)
    keys = [f"event:{pk}" for pk in requested.values_list("pk", flat=True)]
    return Notification.objects.filter(key__in=keys, read_at__isnull=True).update(read_at=timezone.now())


def event_wants_notice(kind: str) -> bool:
    return kind in RULES or kind in _SETTLING


def _notify_on_commit(occurrence: Occurrence) -> None:
    schema: str = connection.schema_name  # type: ignore[attr-defined]

    def run() -> None:
        with schema_context(schema):
            notify(occurrence)

    transaction.on_commit(run, robust=True)  # a mail server down never fails what happened


def _survey_saved(sender: type[Survey], instance: Survey, created: bool, **_: Any) -> None:
    if created and instance.occasion != Survey.Occasion.PHASE:
        title = f"{instance.project.name} — how satisfied are you with {instance.subject}?"
        _notify_on_commit(Occurrence("survey.opened", f"survey:{instance.pk}", instance.project, title))


_DECIDED = {Guarantee.Status.PASSED, Guarantee.Status.FAILED, Guarantee.Status.REFUNDED, Guarantee.Status.DECLINED}


def _guarantee_saved(
    sender: type[Guarantee], instance: Guarantee, created: bool, update_fields: Any = None, **_: Any
) -> None:
    project = instance.project
    if created:
        title = f"{project.name} — the 30-day window is open until {instance.closes_at:%b %-d, %Y}"
        _notify_on_commit(Occurrence("guarantee.opened", f"guarantee:{instance.pk}:open", project, title))
    elif instance.status in _DECIDED and (update_fields is None or "status" in update_fields):
        title = f"{project.name} — {instance.get_status_display()}"
        key = f"guarantee:{instance.pk}:{instance.status}"
        _notify_on_commit(Occurrence("guarantee.decided", key, project, title, body=instance.decision_note))


def _payment_noticed(
    sender: Any,
    *,
    kind: str,
    schema_name: str,
    project_id: int | None,
    key: str,
    title: str,
    path: str,
    template: str,
    context: dict[str, Any],
    **_: Any,
) -> bool:
    """billing's payment e-mail goes out by each owner's preference; its own template stays the mail."""

    def run() -> None:
        with schema_context(schema_name):
            project = Project.objects.filter(pk=project_id).first() if project_id else None
            occurrence = Occurrence(
                f"payment.{kind}",
                key,
                project,
                title,
                path=path,
                data={"template": template, "context": context},
            )
            notify(occurrence)

    transaction.on_commit(run, robust=True)
    return True


def sources_connect() -> None:
    post_save.connect(_survey_saved, sender=Survey, dispatch_uid="success.notifications.survey")
    post_save.connect(_guarantee_saved, sender=Guarantee, dispatch_uid="success.notifications.guarantee")
    payment_notice.connect(_payment_noticed, dispatch_uid="success.notifications.payment")


def sources_disconnect() -> None:
    post_save.disconnect(sender=Survey, dispatch_uid="success.notifications.survey")
    post_save.disconnect(sender=Guarantee, dispatch_uid="success.notifications.guarantee")
    payment_notice.disconnect(dispatch_uid="success.notifications.payment")
