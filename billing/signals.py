"""What billing tells the apps above it, as Django signals it owns.

Every signal is sent once per outcome, after the ledger row that records it is committed, with
keyword arguments only (``sender`` is the billing model class):

- ``milestone_paid``: ``schema_name``, ``project_id``, ``milestone`` (key), ``charge_id``,
  ``amount_cents``. Projects starts or continues the project's workflow.
- ``milestone_failed``: the same plus ``failure_code`` and ``failure_message`` (for the customer).
  Projects leaves the project waiting and shows the reason.
- ``subscription_renewal_failed``: ``schema_name``, ``project_id``, ``subscription_id``,
  ``failure_message``. Projects pauses the engagement.
- ``subscription_canceled``: ``schema_name``, ``project_id``, ``subscription_id`` when the
  subscription has ended in Stripe.
- ``custom_quote_issued``: ``schema_name``, ``project_id``, ``custom_quote_id`` when an account
  manager saves a custom quote; projects makes it the project's next quote version to accept.
- ``payment_notice`` (sent when the row is recorded, inside its transaction): ``kind``
  ("receipt" or "failure": a milestone, an invoice or a subscription's renewal), ``schema_name``,
  ``project_id``, ``key`` (one per notice: each retry of a failed charge is a new one),
  ``title``, ``path`` (the portal page to act on), ``template`` and ``context`` (billing's own
  e-mail). A receiver that returns True takes the notice over and mails it after the commit by
  each person's notification preferences (success); without one, billing mails the owners itself.
"""

from __future__ import annotations

from django.dispatch import Signal

milestone_paid = Signal()
milestone_failed = Signal()
subscription_renewal_failed = Signal()
subscription_canceled = Signal()
custom_quote_issued = Signal()
payment_notice = Signal()
