"""Signals projects sends to the apps above it (success listens; projects never imports it).

``phase_ready_for_gates``: every task of a gated phase is finished; receivers run the quality
gates and call ``projects.delivery.orchestration.phase_gates_pass`` or ``phase_gates_block``. Sent after
the commit, with ``schema_name``, ``project_id`` and ``phase_id``. With no receiver connected the
phase passes at once and the event says that no gate policy is installed.

``task_escalated``: a task has been blocked longer than the escalation limit
(``HIVE_BLOCKED_ESCALATION_SECONDS``, 30 minutes by default); sent
after the commit with ``schema_name``, ``project_id``, ``task_id`` and ``reason``.

``payment_overdue``: a milestone charged after the start failed (first failure) or failed its last
retry (the delivery is paused); sent with ``schema_name``, ``project_id`` and ``reason``.

``platform_unavailable``: something the platform must provide is not configured (the secret store
has no keys), so a customer's action was refused; sent at once (outside the refused action's
transaction) with ``schema_name``, ``project_id`` and ``reason`` (the operator's message).
"""

from __future__ import annotations

from django.dispatch import Signal

phase_ready_for_gates = Signal()
task_escalated = Signal()
payment_overdue = Signal()
platform_unavailable = Signal()
