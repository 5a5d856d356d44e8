"""Quotes: versioned snapshots of a project's scope with their payment schedule, a custom quote
from an account manager, and the customer's one explicit acceptance (which authorises the schedule)."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from billing.catalog import format_usd
from billing.milestones import custom_schedule, schedule_total
from billing.models import CustomQuote
from projects.broker import payments_charge_send
from projects.models import Assessment, Engagement, Project, Quote, Service
from projects.scoping.intake import ScopingError, current_scope, ensure_scope_open
from projects.scoping.migration_minimum import (
    CUSTOM_MIGRATION,
    BelowMinimum,
    assessment_below_minimum,
    below_minimum,
    custom_quote_request,
    fixed_schedule_refusal,
)
from projects.scoping.payment_schedule import (
    PaymentSetupError,
    quote_terms,
    quote_valid_until,
    schedule_authorise,
    schedule_of_scope,
)
from projects.scoping.scope_fingerprint import KEY, scope_changed_since, scope_fingerprint
from projects.scoping.scope_snapshot import (
    augmentation_snapshot,
    modernization_snapshot,
    mvp_snapshot,
    service_terms,
)
from tenants.audit import Action, audit_record
from tenants.models import Customer, User
from tenants.verification import email_verified_require


def _scope_snapshot(project: Project) -> dict[str, Any]:
    if project.service == Service.MVP:
        stories = [s for s in project.stories.all() if not s.dropped]
        if not stories:
            raise ScopingError("Add your requirements first: there are no stories to quote.")
        snapshot = mvp_snapshot(project, current_scope(project, stories), stories)
        schedule = schedule_of_scope(service=project.service, price_cents=snapshot["price_cents"])
    elif project.service == Service.MODERNIZATION:
        assessment = Assessment.objects.filter(project=project).first()
        if assessment is None:
            raise ScopingError("Upload the legacy code first: the quote is based on its assessment.")
        below = assessment_below_minimum(assessment.result)
        if below is not None:
            return _custom_migration_snapshot(project, assessment.result, below)
        schedule = schedule_of_scope(service=project.service, price_cents=None, assessment=assessment.result)
        snapshot = modernization_snapshot(project, assessment.result, price_cents=schedule_total(schedule))
    else:
        engagement = Engagement.objects.filter(project=project).first()
        if engagement is None:
            raise ScopingError("Choose the engagement first.")
        snapshot = augmentation_snapshot(project, engagement)
        schedule = schedule_of_scope(service=project.service, price_cents=None, engagement=engagement)
    if schedule:
        snapshot |= quote_terms(project.service, schedule, today=timezone.localdate())
    return snapshot


def _custom_migration_snapshot(project: Project, result: dict[str, Any], below: BelowMinimum) -> dict[str, Any]:
    """A code base below the fixed schedule's minimum: the assessment's figures without a price,
    and the paragraph that says why the account manager prices it."""
    try:
        snapshot = modernization_snapshot(project, result, price_cents=0)
    except (KeyError, TypeError, ValueError):  # an assessment whose figures cannot be read
        snapshot = {"service": project.service, **service_terms(project.service)}
    for key in ("price", "assessment_price", "phase_price_rule", "implementation_price"):
        snapshot.pop(key, None)
    return snapshot | {"outcome": CUSTOM_MIGRATION, "price_cents": None, "small_codebase": below.paragraph}


def _custom_quote_request_once(project: Project, snapshot: dict[str, Any]) -> None:
    """Ask the account manager for a custom quote the first time a quote version of this code (its
    scope fingerprint) needs one — code uploaded again is asked for again."""
    asked = project.quotes.filter(snapshot__outcome=CUSTOM_MIGRATION, **{f"snapshot__{KEY}": snapshot.get(KEY)})
    if snapshot["outcome"] != CUSTOM_MIGRATION or asked.exists():
        return  # asked once for this code: the same code quoted again asks nobody again
    below = below_minimum(snapshot.get("code_loc"))
    if below is None:  # the snapshot is made only below the minimum; nothing to ask otherwise
        return
    customer = Customer.objects.select_related("account_manager").get(
        schema_name=connection.schema_name  # type: ignore[attr-defined]
    )
    custom_quote_request(project=project, below=below, customer=customer)


@transaction.atomic
def quote_create(*, project: Project) -> Quote:
    """Freeze the current scope as the project's next quote version."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    ensure_scope_open(project)
    latest = project.quotes.order_by("-number").first()
    waiting = latest is not None and latest.snapshot.get("outcome") == "custom_quote" and latest.accepted_at is None
    if latest is not None and waiting and not scope_changed_since(latest.snapshot, project):
        raise ScopingError(
            f"Your account manager's quote v{latest.number} is waiting for you: accept it, or ask them to change it."
        )
    snapshot = {**_scope_snapshot(project), KEY: scope_fingerprint(project)}
    _custom_quote_request_once(project, snapshot)
    number = (project.quotes.aggregate(last=Max("number"))["last"] or 0) + 1
    quote = Quote.objects.create(
        project=project, number=number, snapshot=snapshot, price_cents=snapshot.get("price_cents")
    )
    custom = snapshot["outcome"] in {"custom_engagement", Engagement.Kind.PROJECT, CUSTOM_MIGRATION}
    project.status = Project.Status.CUSTOM_REQUESTED if custom else Project.Status.QUOTED
    project.save(update_fields=["status"])
    return quote


@transaction.atomic
def quote_from_custom(*, project: Project, custom: CustomQuote) -> Quote:
    """The account manager's custom quote becomes the project's next quote version, with its
    schedule (deposit on acceptance, the rest on completion), for the owner to accept."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    ensure_scope_open(project)
    if custom.customer.schema_name != connection.schema_name:  # type: ignore[attr-defined]
        raise ScopingError("This custom quote is for another customer.")
    schedule = custom_schedule(amount_cents=custom.amount_cents, deposit_percent=custom.deposit_percent)
    snapshot: dict[str, Any] = {
        "service": project.service,
        "outcome": "custom_quote",
        "custom_quote_id": custom.pk,
        "title": custom.title,
        "scope_text": custom.scope,
        "price_cents": custom.amount_cents,
        "price": format_usd(custom.amount_cents),
        KEY: scope_fingerprint(project),
        **service_terms(project.service),
        **quote_terms(project.service, schedule, today=timezone.localdate()),
    }
    if custom.valid_until is not None:
        snapshot["valid_until"] = custom.valid_until.isoformat()
    number = (project.quotes.aggregate(last=Max("number"))["last"] or 0) + 1
    quote = Quote.objects.create(project=project, number=number, snapshot=snapshot, price_cents=custom.amount_cents)
    project.status = Project.Status.QUOTED
    project.save(update_fields=["status"])
    return quote


def quote_acceptable(*, quote: Quote, project: Project) -> None:
    """Raise ScopingError unless ``quote`` is the project's newest, priced, unexpired version — and,
    for a modernization, not a fixed schedule for a code base below the minimum (``migration_minimum``)."""
    ensure_scope_open(project)
    latest = project.quotes.aggregate(last=Max("number"))["last"]
    if quote.number != latest:
        raise ScopingError(f"Quote v{quote.number} was replaced by v{latest}; review and accept the newest version.")
    if scope_changed_since(quote.snapshot, project):
        what = "code" if project.service == Service.MODERNIZATION else "scope"
        raise ScopingError(
            f"The {what} changed after quote v{quote.number} was made: it cannot be accepted for what it did not"
            " price. Get a new version of the quote (or, for an account manager's quote, ask them again)."
        )
    below = fixed_schedule_refusal(quote=quote, project=project)
    if below is not None:
        raise ScopingError(below.refusal)
    if quote.price_cents is None:
        raise ScopingError("This is a custom engagement: your account manager will send you a quote to accept.")
    valid_until = quote_valid_until(quote)
    if valid_until is not None and timezone.localdate() > valid_until:
        raise ScopingError(f"Quote v{quote.number} expired on {valid_until:%Y-%m-%d}; get a new version to accept.")


@transaction.atomic
def quote_accept(*, quote: Quote, user: User, consent: str) -> Quote:
    """Accept the latest quote version and authorise its payment schedule in one step.

    ``consent`` is the token of the consent step (``payment_schedule.payment_offer``) the customer
    confirmed: it must still name this quote, the amount due now and the default card. Recorded:
    who, when, the amount and the card; the up-front milestones are charged after the commit.

    Accepting starts the first payment, so the person must have confirmed their e-mail address
    (``EmailUnverified``, a PermissionDenied, otherwise)."""
    email_verified_require(user, action="accepting a quote")
    project = Project.objects.select_for_update().get(pk=quote.project_id)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.accepted_at is not None:
        return quote  # a double submit accepts once
    quote_acceptable(quote=quote, project=project)
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    now = timezone.now()
    try:
        schedule_authorise(
            project=project, quote=quote, customer=Customer.objects.get(schema_name=schema), token=consent, now=now
        )
    except PaymentSetupError as exc:
        raise ScopingError(str(exc)) from exc
    custom_id = quote.snapshot.get("custom_quote_id")
    if custom_id:
        CustomQuote.objects.filter(pk=custom_id, accepted_at__isnull=True).update(accepted_at=now)
    quote.accepted_at = now
    quote.accepted_by = user
    quote.accepted_by_email = user.email
    quote.save(
        update_fields=["accepted_at", "accepted_by", "accepted_by_email", "authorised_now_cents", "authorised_card"]
    )
    project.status = Project.Status.AWAITING_PAYMENT
    project.save(update_fields=["status"])
    audit_record(
        action=Action.QUOTE_ACCEPTED,
        user=user,
        obj=quote,
        detail={
            "project_id": project.pk,
            "price_cents": quote.price_cents,
            "authorised_now_cents": quote.authorised_now_cents,
            "authorised_card": quote.authorised_card,
        },
    )
    transaction.on_commit(lambda: payments_charge_send(schema, project.pk))
    return quote
