"""The API's only authentication: a company's API key in ``Authorization: Api-Key <key>`` (or
``Bearer <key>``), looked up in the schema of the host it was sent to.

A key acts as its company with its scope, bounded by the current role of the owner who made it: it
is never a person, never staff, and the portal's session cookie does not open the API (so no CSRF
question arises). A key of another company is not in this schema and is refused like a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from api.keys import api_key_resolve, api_key_touch
from api.models import ApiKey
from api.signals import api_key_used
from tenants.access import membership_for
from tenants.models import Customer, Role, User

SCHEMES = ("api-key", "bearer")
# Refused keys per client address and window before that address gets 429 (DRF's throttles run
# after authentication, so they never see a wrong key).
REFUSALS_WINDOW_SECONDS = 60
KEYWORD = "Api-Key"


@dataclass(frozen=True, slots=True)
class KeyClient:
    """Who a request authenticated by a key is: the key, its company, the role it acts with."""

    key: ApiKey
    customer: Customer
    role: Role
    creator: User

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    def __str__(self) -> str:
        return f"API key {self.key.prefix} of {self.customer.schema_name}"


def presented_key(request: HttpRequest) -> str | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in SCHEMES:
        return None
    return value.strip()


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[KeyClient, ApiKey] | None:
        django_request: HttpRequest = request._request
        presented = presented_key(django_request)
        if presented is None:
            return None
        customer: Customer | None = getattr(django_request, "customer", None)
        if customer is None:
            raise exceptions.AuthenticationFailed("The API is served on your company's portal host.")
        refusals_key = f"api-key-refusals:{django_request.META.get('REMOTE_ADDR', '')}"
        if cache.get(refusals_key, 0) >= settings.HIVE_API_REFUSALS_PER_MINUTE:
            raise exceptions.Throttled(REFUSALS_WINDOW_SECONDS, "Too many refused API keys from this address.")
        key = api_key_resolve(presented)
        if key is None:
            cache.add(refusals_key, 0, REFUSALS_WINDOW_SECONDS)
            try:
                cache.incr(refusals_key)
            except ValueError:  # expired between add and incr
                cache.set(refusals_key, 1, REFUSALS_WINDOW_SECONDS)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        creator: User = key.created_by
        membership = membership_for(creator, customer) if creator.is_active else None
        if membership is None:
            raise exceptions.AuthenticationFailed("The owner who made this key is no longer a member; make a new one.")
        if customer.is_suspended:
            raise exceptions.PermissionDenied("This company's portal is suspended.")
        api_key_touch(key, django_request)
        api_key_used.send(
            ApiKey,
            key=key,
            schema_name=customer.schema_name,
            method=django_request.method or "",
            path=django_request.path,
            ip=django_request.META.get("REMOTE_ADDR", ""),
        )
        return KeyClient(key=key, customer=customer, role=Role(membership.role), creator=creator), key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no or a bad key was given.
        return f'{KEYWORD} realm="api"'
