"""The payment schedule of a project: what its quote says the customer pays, when, and on which
card — from the quote to the rows that are charged.

- ``schedule_of_scope`` prices the schedule of a new quote (billing's rules per service) and
  ``quote_terms`` adds its issue date, validity and terms; the quote freezes both.
- ``payment_offer`` is the consent step: the amount due now, the card it goes on and the later
  charges, with a signed token naming exactly those. ``schedule_authorise`` (inside the quote's
  acceptance) checks the token against what is true now and records the consent and the rows.
- ``payments_trigger`` makes rows due when their trigger happens (delivery accepted, a migration
  phase passed its gates, a sprint started, the engagement completed); ``projects.delivery.payments``
  charges them.
- ``deliverable_release`` says whether the paid milestones release the full deliverable.

Quotes frozen before schedules existed have none in their snapshot: ``quote_schedule`` derives
what was charged for them then (the up-front milestone of their service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.utils import timezone

from billing.catalog import (
    SPRINT_AUGMENTATION,
    format_usd,
)
from billing.milestones import (
    PHASE_PRICE_RULE,
    MilestoneError,
    ScheduledMilestone,
    Trigger,
    continuous_schedule,
    modernization_schedule,
    mvp_schedule,
    schedule_from_json,
    schedule_to_json,
    schedule_total,
    sprint_schedule,
)
from billing.models import PaymentMethod, StripeCustomer
from projects.models import Engagement, Project, Quote, RepositoryConnection, ScheduledPayment, Service
from tenants.models import Customer

_CONSENT_SALT = "projects.quote-consent"
_CONSENT_MAX_AGE = 3600  # seconds between reading the consent step and confirming it


class PaymentSetupError(Exception):
    """The schedule cannot be authorised as it stands; the message says what to do."""


# --- the schedule of a quote ------------------------------------------------------------------------


def phase_lines(result: dict[str, Any]) -> list[int]:
    """The code lines of each migration phase of an assessment result."""
    # Shares are of the migrated lines (older results: of every line).
    total = int((result.get("migrated") or result.get("totals", {})).get("code", 0))
    lines = []
    for phase in result.get("plan", {}).get("phases", []):
        if "code_lines" in phase:
            lines.append(int(phase["code_lines"]))
        else:
            lines.append(round(float(phase.get("share", 0)) * total))
    return lines


def schedule_of_scope(
    *,
    service: str,
    price_cents: int | None,
    assessment: dict[str, Any] | None = None,
    engagement: Engagement | None = None,
) -> tuple[ScheduledMilestone, ...]:
    """The schedule a new quote shows; empty for a custom quote the account manager prices."""
    if service == Service.MVP:
        return mvp_schedule(price_cents) if price_cents else ()
    if service == Service.MODERNIZATION:
        assert assessment is not None
        return modernization_schedule(
            assessment_cents=int(assessment["assessment_price_cents"]), phase_lines=phase_lines(assessment)
        )
    if engagement is None:
        return ()
    if engagement.kind == Engagement.Kind.SPRINT:
        return sprint_schedule(sprints=engagement.sprints, sprint_weeks=engagement.sprint_weeks)
    if engagement.kind == Engagement.Kind.CONTINUOUS:
        return continuous_schedule(months=engagement.months)
    return ()


def quote_terms(service: str, schedule: tuple[ScheduledMilestone, ...], *, today: date) -> dict[str, Any]:
    """What a quote adds to its scope: the schedule, issue date, validity and payment terms."""
    valid_until = today + timedelta(days=settings.HIVE_QUOTE_VALID_DAYS)
    retry_days = ", ".join(str(day) for day in settings.HIVE_DUNNING_RETRY_DAYS)
    release = settings.HIVE_DELIVERABLE_RELEASE.get(service, "final")
    terms = [
        "You authorise the whole schedule once, when you accept: the amount due now is charged at once "
        "and each later milestone is charged to the same card when its trigger happens, once, with a receipt.",
        (
            "A monthly payment that fails pauses the engagement until it is paid; you get an e-mail with a link to pay."
            if any(row.trigger == Trigger.MONTHLY for row in schedule)
            else f"A later charge that fails is retried {retry_days} days after each failure; you get an e-mail "
            "with a link to pay each time, and after the last retry the delivery pauses until the milestone is paid."
        ),
        "The full deliverable (the git repository) is released when "
        + ("the last milestone is paid" if release == "final" else "the first milestone is paid")
        + "; until then you have "
        + (
            "the agents' work as pull requests in your connected repository and the sprint reports."
            if service == Service.AUGMENTATION
            else "the live preview and the acceptance material."
        ),
        "Prices are in US dollars and fixed for this scope; a change of scope makes a new quote version.",
    ]
    if service == Service.MODERNIZATION:
        terms.append(f"Migration phases are priced by size: {PHASE_PRICE_RULE}.")
    return {
        "schedule": schedule_to_json(schedule),
        "issued_on": today.isoformat(),
        "valid_until": valid_until.isoformat(),
        "valid_days": settings.HIVE_QUOTE_VALID_DAYS,
        "payment_terms": terms,
    }


def quote_schedule(quote: Quote) -> tuple[ScheduledMilestone, ...]:
    """The schedule frozen in ``quote``, or for an older quote what its service charged up front
    (none when its price cannot be split into milestones)."""
    try:
        return _quote_schedule(quote)
    except MilestoneError:
        return ()


def _quote_schedule(quote: Quote) -> tuple[ScheduledMilestone, ...]:
    snapshot = quote.snapshot
    if "schedule" in snapshot:
        return schedule_from_json(snapshot["schedule"])
    price = quote.price_cents
    if price is None:
        return ()
    service = snapshot.get("service", quote.project.service)
    outcome = str(snapshot.get("outcome", ""))
    if service == Service.MVP:
        return mvp_schedule(price)
    if service == Service.MODERNIZATION:
        return modernization_schedule(assessment_cents=price, phase_lines=[])
    if outcome == Engagement.Kind.CONTINUOUS:
        return continuous_schedule()
    assert SPRINT_AUGMENTATION.price_cents is not None
    sprints = max(1, price // SPRINT_AUGMENTATION.price_cents)
    return sprint_schedule(sprints=sprints, sprint_weeks=2)


def quote_valid_until(quote: Quote) -> date | None:
    raw = quote.snapshot.get("valid_until")
    return date.fromisoformat(raw) if raw else None


# --- consent ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentOffer:
    """The consent step of a quote: what is charged now, on which card, and what comes later."""

    quote: Quote
    schedule: tuple[ScheduledMilestone, ...]
    card: PaymentMethod | None

    @property
    def now(self) -> tuple[ScheduledMilestone, ...]:
        return tuple(row for row in self.schedule if row.due_on_acceptance)

    @property
    def later(self) -> tuple[ScheduledMilestone, ...]:
        return tuple(row for row in self.schedule if not row.due_on_acceptance)

    @property
    def due_now_cents(self) -> int:
        return schedule_total(self.now)

    @property
    def due_now_label(self) -> str:
        return format_usd(self.due_now_cents)

    @property
    def total_label(self) -> str:
        return format_usd(schedule_total(self.schedule))

    @property
    def token(self) -> str:
        """Names the quote, the amount and the card the customer is shown: the acceptance is
        refused when any of them changed since."""
        card = self.card.stripe_id if self.card is not None else ""
        return signing.dumps({"q": self.quote.pk, "n": self.due_now_cents, "c": card}, salt=_CONSENT_SALT)


def payment_offer(*, quote: Quote, customer: Customer) -> PaymentOffer:
    stripe_customer = StripeCustomer.objects.filter(customer=customer).first()
    card = stripe_customer.default_payment_method if stripe_customer is not None else None
    return PaymentOffer(quote=quote, schedule=quote_schedule(quote), card=card)


def schedule_authorise(
    *, project: Project, quote: Quote, customer: Customer, token: str, now: datetime
) -> list[ScheduledPayment]:
    """Check the consent ``token`` against the quote, amount and card as they are now, record the
    consent on the quote and make the project's schedule rows; the up-front ones are due now.

    Runs inside the quote's acceptance transaction; raises PaymentSetupError when the consent no
    longer matches (nothing is recorded then)."""
    offer = payment_offer(quote=quote, customer=customer)
    if not offer.schedule:
        raise PaymentSetupError("This quote has no payment schedule to authorise.")
    try:
        consent = signing.loads(token, salt=_CONSENT_SALT, max_age=_CONSENT_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise PaymentSetupError("The payment step expired; review the amount and the card again.") from exc
    except signing.BadSignature as exc:
        raise PaymentSetupError("Accept the quote from its payment step, which shows what will be charged.") from exc
    if offer.card is None:
        raise PaymentSetupError("Add a card on the Billing page first: nothing has been charged.")
    if consent != {"q": quote.pk, "n": offer.due_now_cents, "c": offer.card.stripe_id}:
        raise PaymentSetupError("The amount or the card changed since you reviewed them; review them again.")
    quote.authorised_now_cents = offer.due_now_cents
    quote.authorised_card = str(offer.card)[:80]
    rows = [
        ScheduledPayment(
            project=project,
            quote=quote,
            position=position,
            key=row.milestone.key,
            label=row.milestone.label,
            amount_cents=row.milestone.amount_cents,
            trigger=row.trigger.value,
            number=row.number,
            when=row.when[:200],
            status=ScheduledPayment.Status.DUE if row.due_on_acceptance else ScheduledPayment.Status.SCHEDULED,
            due_at=now if row.due_on_acceptance else None,
        )
        for position, row in enumerate(offer.schedule, 1)
    ]
    return ScheduledPayment.objects.bulk_create(rows)


# --- triggers and release -----------------------------------------------------------------------------


def payments_trigger(*, project_id: int, trigger: Trigger, numbers: list[int] | None = None) -> int:
    """Make the project's rows of ``trigger`` (and of ``numbers``, when given) due now; returns
    how many became due. The caller sends the charge after its commit."""
    rows: QuerySet[ScheduledPayment] = ScheduledPayment.objects.filter(
        project_id=project_id, trigger=trigger.value, status=ScheduledPayment.Status.SCHEDULED
    )
    if numbers is not None:
        rows = rows.filter(number__in=numbers)
    return rows.update(status=ScheduledPayment.Status.DUE, due_at=timezone.now())


def sprint_start_due(*, project: Project, started_at: datetime, now: datetime) -> list[int]:
    """The sprints of the project whose start (the repository's connection — or ``started_at``
    when later — plus the sprints before) has come; none before the repository is connected."""
    connection = RepositoryConnection.objects.filter(project=project).only("connected_at").first()
    if connection is None:
        return []
    started_at = max(started_at, connection.connected_at)
    engagement = Engagement.objects.filter(project=project).first()
    weeks = engagement.sprint_weeks if engagement is not None else 2
    numbers = ScheduledPayment.objects.filter(
        project=project, trigger=Trigger.SPRINT_START.value, status=ScheduledPayment.Status.SCHEDULED
    ).values_list("number", flat=True)
    return [number for number in numbers if started_at + timedelta(weeks=weeks * (number - 1)) <= now]


_PAID_AT_THE_END = {Trigger.COMPLETION.value, Trigger.DELIVERY_ACCEPTED.value}


@dataclass(frozen=True, slots=True)
class Release:
    released: bool
    reason: str


def deliverable_release(project: Project) -> Release:
    """Whether the milestones paid so far release the full deliverable (``HIVE_DELIVERABLE_RELEASE``)."""
    rows = list(ScheduledPayment.objects.filter(project=project).order_by("position"))
    if not rows:  # a project accepted before schedules existed: its deposit released it
        return Release(True, "")
    rule = settings.HIVE_DELIVERABLE_RELEASE.get(project.service, "final")
    if any(row.trigger in _PAID_AT_THE_END for row in rows):
        rule = "final"  # a milestone due at the end is what the code is delivered against
    needed = rows if rule == "final" else rows[:1]
    unpaid = [row for row in needed if row.status != ScheduledPayment.Status.PAID]
    if not unpaid:
        return Release(True, "")
    first = unpaid[0]
    return Release(
        False,
        f"The full deliverable is released once “{first.label}” ({first.amount_label}, {first.when}) is paid. "
        "Until then you have the preview and the acceptance material.",
    )
