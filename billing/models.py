"""The money ledger (public schema): Stripe customers, cards on file, charges, refunds,
subscriptions, received webhook events and account managers' custom quotes.

Stripe is the source of truth for money; these rows are the portal's record of what it asked
Stripe to do and what Stripe answered, keyed by Stripe ids so the reconciliation command can
compare both sides. Projects live in tenant schemas, so a ledger row names its project by
``schema_name`` + ``project_id`` (no foreign key crosses schemas) and keeps the project's name and
service as they were when it was charged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from billing.catalog import ServiceCode, format_usd

SERVICE_CHOICES = [(code.value, code.value.capitalize()) for code in ServiceCode]


class StripeCustomer(models.Model):
    """A tenant's customer object in Stripe, with the billing contact shown on receipts."""

    customer = models.OneToOneField("tenants.Customer", on_delete=models.PROTECT, related_name="stripe_customer")
    stripe_id = models.CharField(max_length=64, unique=True)
    billing_name = models.CharField(max_length=160, blank=True)
    billing_email = models.EmailField(blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, e.g. US")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.customer.name} ({self.stripe_id})"

    @property
    def address(self) -> dict[str, str]:
        """The address in Stripe's shape, without empty parts."""
        parts = {
            "line1": self.address_line1,
            "line2": self.address_line2,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "country": self.country,
        }
        return {key: value for key, value in parts.items() if value}

    @property
    def default_payment_method(self) -> PaymentMethod | None:
        return self.payment_methods.filter(is_default=True).first()


_BRAND_LABELS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


class PaymentMethod(models.Model):
    """A card on file: a cache of the Stripe PaymentMethod attached to the tenant's customer."""

    stripe_customer = models.ForeignKey(StripeCustomer, on_delete=models.CASCADE, related_name="payment_methods")
    stripe_id = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(default=0)
    exp_year = models.PositiveSmallIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer"], condition=Q(is_default=True), name="one_default_card_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand_label} •••• {self.last4}"

    @property
    def brand_label(self) -> str:
        """The brand as people write it ("Visa", not Stripe's "visa")."""
        return _BRAND_LABELS.get(self.brand.lower(), self.brand.title())

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"


class Charge(models.Model):
    """One line of the ledger that takes money: a project milestone or a subscription invoice.

    A milestone row is claimed (status ``pending``) *before* Stripe is called, under a unique
    constraint on (schema, project, milestone): that row is what makes a double charge impossible.
    """

    class Kind(models.TextChoices):
        MILESTONE = "milestone", "Milestone"
        SUBSCRIPTION = "subscription", "Subscription invoice"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # claimed, Stripe not called yet
        PROCESSING = "processing", "Processing"  # Stripe called, answer not recorded yet
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed"

    customer = models.ForeignKey("tenants.Customer", on_delete=models.PROTECT, related_name="charges")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MILESTONE)
    schema_name = models.CharField(max_length=63, db_index=True)
    project_id = models.PositiveBigIntegerField(null=True, blank=True)
    project_name = models.CharField(max_length=160, blank=True)
    service = models.CharField(max_length=20, choices=SERVICE_CHOICES)
    milestone = models.CharField(max_length=60, help_text="e.g. mvp-deposit, phase-2, sprint-1, or an invoice id")
    description = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=120, blank=True)
    statement_descriptor = models.CharField(max_length=22, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_charge_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_invoice_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    call_started_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # When milestone_paid / milestone_failed went out for the current outcome (sent exactly once).
    signalled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["schema_name", "project_id", "milestone"],
                condition=Q(kind="milestone"),
                name="one_charge_per_milestone",
            ),
            models.UniqueConstraint(
                fields=["stripe_invoice_id"], condition=~Q(stripe_invoice_id=""), name="one_charge_per_invoice"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="charge_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.description} — {format_usd(self.amount_cents)} ({self.get_status_display()})"

    @property
    def amount_label(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def refunded_cents(self) -> int:
        total = self.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount_cents"))["total"]
        return int(total or 0)

    @property
    def refundable_cents(self) -> int:
        if self.status != self.Status.SUCCEEDED:
            return 0
        return self.amount_cents - self.refunded_cents

    @property
    def receipt_number(self) -> str:
        return f"AH-{self.created_at:%Y}-{self.pk:06d}"


class Refund(models.Model):
    """Money given back on a charge: the whole project after a failed guarantee, or part of a
    charge by an account manager with a reason."""

    class Kind(models.TextChoices):
        GUARANTEE = "guarantee", "Guarantee refund (full)"
        PARTIAL = "partial", "Partial refund"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_cents = models.BigIntegerField()
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=64, blank=True, db_index=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"Refund of {format_usd(self.amount_cents)} on {self.charge.description}"

    @property
    def amount_label(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def idempotency_key(self) -> str:
        return f"refund-{self.pk}"


class Subscription(models.Model):
    """Continuous augmentation: a monthly Stripe Subscription on a Plan, one per project."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Renewal failed"
        CANCELED = "canceled", "Cancelled"

    customer = models.ForeignKey("tenants.Customer", on_delete=models.PROTECT, related_name="subscriptions")
    schema_name = models.CharField(max_length=63)
    project_id = models.PositiveBigIntegerField()
    project_name = models.CharField(max_length=160, blank=True)
    plan_code = models.CharField(max_length=20, default="continuous")
    amount_cents = models.BigIntegerField(help_text="per month")
    currency = models.CharField(max_length=3, default="usd")
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    stripe_plan_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INCOMPLETE)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_end = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    # The last invoice whose failure paused the engagement (its signal went out once).
    failed_invoice_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["schema_name", "project_id"], name="one_subscription_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.project_name or self.project_id}: {format_usd(self.amount_cents)}/month ({self.status})"


class WebhookEvent(models.Model):
    """A verified Stripe event, stored once by its id and processed by a Celery task."""

    stripe_event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    stripe_created_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    deliveries = models.PositiveIntegerField(default=1, help_text="how often Stripe (or anyone) sent it")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"


class CustomQuote(models.Model):
    """A price an account manager sets in admin for work the catalog does not price
    (project-based augmentation, unusual scopes). The customer accepts it in the portal."""

    customer = models.ForeignKey("tenants.Customer", on_delete=models.PROTECT, related_name="custom_quotes")
    project_id = models.PositiveBigIntegerField(help_text="the project's id in the customer's portal")
    title = models.CharField(max_length=160)
    scope = models.TextField(help_text="what is delivered, as the customer will read it")
    service = models.CharField(max_length=20, choices=SERVICE_CHOICES)
    amount_cents = models.BigIntegerField(help_text="total price in cents")
    deposit_percent = models.PositiveSmallIntegerField(default=50, help_text="charged on acceptance")
    valid_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="custom_quote_amount_positive"),
            models.CheckConstraint(condition=Q(deposit_percent__lte=100), name="custom_quote_deposit_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {format_usd(self.amount_cents)}"

    @property
    def amount_label(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def deposit_cents(self) -> int:
        return self.amount_cents * self.deposit_percent // 100
