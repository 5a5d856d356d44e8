"""Signals the accounts code sends so that other code (the audit log) can record what happened
without this app importing it.

Logins, failed logins and lockouts are already announced by Django and django-axes
(``django.contrib.auth.signals.user_logged_in`` / ``user_login_failed`` / ``user_logged_out`` and
``axes.signals.user_locked_out``); these add what only this app knows. Every one is sent with
``sender=User`` and keyword arguments ``request`` (may be None) and ``user``.
"""

from __future__ import annotations

from django.dispatch import Signal

# A TOTP device was confirmed (two-factor switched on); also sends ``device``.
two_factor_enabled = Signal()
# The user removed their devices (two-factor switched off).
two_factor_disabled = Signal()
# A login was confirmed with a second factor; ``device`` is the TOTP or recovery-code device.
two_factor_verified = Signal()
# A wrong TOTP or recovery code was entered at the login's second step or at re-authentication.
two_factor_failed = Signal()
# A recovery code was used (and so is spent); also sends ``remaining`` (codes left).
recovery_code_used = Signal()
# New recovery codes replaced the old ones.
recovery_codes_regenerated = Signal()
# The person confirmed they are present (password or TOTP) before a sensitive action.
reauthenticated = Signal()
# The user's e-mail address was confirmed through a signed link.
email_verified = Signal()
# A signup was asked for (the link is mailed); ``email`` and ``subdomain`` instead of ``user``.
signup_requested = Signal()
