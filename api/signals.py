"""Signals of the API keys, for the audit log to receive (``api`` is the top layer: it announces,
it does not call the audit app).

``api_key_created(sender=ApiKey, key=ApiKey, user=User, schema_name=str)`` after a key was made;
``api_key_revoked(sender=ApiKey, key=ApiKey, user=User, schema_name=str)`` after it was revoked;
``api_key_used(sender=ApiKey, key=ApiKey, schema_name=str, method=str, path=str, ip=str)`` on every
request a key authenticated (receivers decide what to keep; nothing is sent for refused keys).
"""

from django.dispatch import Signal

api_key_created = Signal()
api_key_revoked = Signal()
api_key_used = Signal()
