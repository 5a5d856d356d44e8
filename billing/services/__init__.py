"""Writes that move money, one module per concept: the tenant's Stripe customer (``customers``),
cards on file (``cards``), milestone charges (``charges``), continuous augmentation's
subscriptions and invoices (``subscriptions``) and refunds (``refunds``); what they share is
``notices``. Each records its outcome in the ledger and tells the apps above through
``billing.signals``. Callers use the package's names (``from billing import services``;
``services.milestone_charge``), so a concept can move between modules without them noticing.

Billing sits below projects: it never imports them. A caller names the project by
``customer`` (the tenant) + ``project_id`` + ``project_name`` + ``service``.
"""

from billing.services.cards import (
    payment_method_add_test_card,
    payment_method_attach,
    payment_method_remove,
    payment_method_set_default,
    setup_intent_begin,
    setup_intent_finish,
)
from billing.services.charges import (
    charge_audit_detail,
    charge_pay_now,
    charge_recover,
    charge_settle,
    charges_outstanding_recover,
    milestone_charge,
    receipt_send,
)
from billing.services.customers import billing_contact_update, stripe_customer_ensure
from billing.services.notices import BillingError, announce, owner_emails
from billing.services.refunds import refund_full, refund_partial
from billing.services.subscriptions import (
    from_timestamp,
    invoice_payment_failed,
    invoice_record,
    subscription_cancel,
    subscription_start,
    subscription_sync,
)

__all__ = [
    "BillingError",
    "announce",
    "billing_contact_update",
    "charge_audit_detail",
    "charge_pay_now",
    "charge_recover",
    "charge_settle",
    "charges_outstanding_recover",
    "from_timestamp",
    "invoice_payment_failed",
    "invoice_record",
    "milestone_charge",
    "owner_emails",
    "payment_method_add_test_card",
    "payment_method_attach",
    "payment_method_remove",
    "payment_method_set_default",
    "receipt_send",
    "refund_full",
    "refund_partial",
    "setup_intent_begin",
    "setup_intent_finish",
    "stripe_customer_ensure",
    "subscription_cancel",
    "subscription_start",
    "subscription_sync",
]
