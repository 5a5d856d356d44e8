"""The secret store: credentials customers give the platform (a repository's deploy key or access
token), encrypted at rest with ``cryptography``'s MultiFernet.

Keys come from the environment (setting ``HIVE_SECRET_KEYS``, comma-separated Fernet keys): the
first encrypts, every one decrypts. Rotation is putting a new key first, re-encrypting every
stored secret (``secret_rotate`` on each token; ``projects.delivery.repository.secrets_rotate`` walks the
tenants' rows), then dropping the old key. Without keys the store refuses to work: a secret is
never stored in the clear.

The plain value of a secret exists only in memory of the function that uses it (the git transport
in ``agents.remotes``); ``Revealed`` keeps it out of ``repr``/``str`` so that a log line, an
exception or a template that prints one shows ``[secret]``. This module is in ``tenants`` — the
lowest layer — because the agents that use a secret and the projects that store it both read it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

MAX_SECRET_CHARS = 20_000  # an ed25519/RSA-4096 private key in PEM is well under this


class SecretStoreError(Exception):
    """The store cannot encrypt or decrypt; the message says why (never the secret)."""


class Revealed:
    """A decrypted secret: ``value`` is the text; printing it anywhere shows ``[secret]``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Revealed([secret])"

    def __str__(self) -> str:
        return "[secret]"


def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.HIVE_SECRET_KEYS if key.strip()]
    if not keys:
        raise SecretStoreError("The secret store has no keys: set HIVE_SECRET_KEYS.")
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except (ValueError, UnicodeEncodeError) as error:
        raise SecretStoreError("A key in HIVE_SECRET_KEYS is not a Fernet key.") from error


def secret_encrypt(value: str) -> str:
    """The token to store for ``value`` (encrypted with the first key)."""
    if not value:
        raise SecretStoreError("An empty secret is not stored.")
    if len(value) > MAX_SECRET_CHARS:
        raise SecretStoreError(f"A secret is at most {MAX_SECRET_CHARS:,} characters.")
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def secret_decrypt(token: str) -> Revealed:
    """The secret a stored token holds; SecretStoreError when no key opens it."""
    try:
        return Revealed(_fernet().decrypt(token.encode("ascii")).decode("utf-8"))
    except (InvalidToken, UnicodeError) as error:
        raise SecretStoreError("No key in HIVE_SECRET_KEYS opens this secret.") from error


def secret_rotate(token: str) -> str:
    """The same secret encrypted with the first key (a token of the first key comes back re-encrypted too)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as error:
        raise SecretStoreError("No key in HIVE_SECRET_KEYS opens this secret.") from error


def secret_hint(value: str) -> str:
    """What a page may show of a secret after it was stored: its kind and length, never content."""
    kind = "SSH private key" if "PRIVATE KEY" in value else "access token"
    return f"{kind}, {len(value)} characters"
