"""The shared test world: two customers, each with an owner, a member and a viewer, plus an
outsider (no membership) and a staff user (an account manager).

Schemas are the slow part, so the world is made once per test session and kept committed.
Transactional tests flush the public tables (not the tenant schemas); ``World.ensure`` puts the
rows back on the schemas that are already there, without migrating again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants import host_cache
from tenants.models import Customer, Domain, Membership, Role, User

PASSWORD = "correct-horse-battery-staple"
CUSTOMERS = {"alpha": "Alpha Industries", "beta": "Beta Logistics"}
ROLES = (Role.OWNER, Role.MEMBER, Role.VIEWER)


def host_of(slug: str) -> str:
    return f"{slug}.{settings.HIVE_DOMAIN}"


def _user(email: str, **extra: object) -> User:
    # The world's people confirmed their e-mail addresses (signup and invitations do that).
    user = User.objects.filter(email=email).first()
    return user or User.objects.create_user(email=email, password=PASSWORD, email_verified_at=timezone.now(), **extra)


def staff_authenticator(user: User) -> TOTPDevice:
    """The staff user's confirmed authenticator app (staff must use two-factor)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="world", confirmed=True)


def confirm_second_factor(client: Client, device: TOTPDevice) -> None:
    """Mark ``client``'s session as confirmed by ``device``, as the login's second step does."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@dataclass
class World:
    customers: dict[str, Customer] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    @classmethod
    def build(cls) -> World:
        world = cls()
        world.ensure()
        return world

    def ensure(self) -> None:
        """Make (or re-make after a flush) every row of the world; schemas are created only once."""
        # The world lives in the public schema, whatever the last test left the connection on.
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        if self.customers and Customer.objects.filter(pk=self.customers["alpha"].pk).exists():
            return
        # A flush truncates without signals: the host cache may still hold the old Customer rows.
        host_cache.clear()
        self.customers, self.users = {}, {}
        self.users["outsider"] = _user("outsider@example.test")
        self.users["staff"] = _user("staff@hive.test", is_staff=True, is_superuser=True)
        staff_authenticator(self.users["staff"])
        for slug, name in CUSTOMERS.items():
            customer = Customer.objects.filter(schema_name=slug).first()
            if customer is None:
                customer = Customer(schema_name=slug, name=name)
                customer.save(verbosity=0)
                Domain.objects.create(domain=host_of(slug), tenant=customer, is_primary=True)
            self.customers[slug] = customer
            for role in ROLES:
                user = _user(f"{slug}-{role.value}@example.test", full_name=f"{name} {role.label}")
                Membership.objects.get_or_create(user=user, customer=customer, defaults={"role": role})
                self.users[f"{slug}_{role.value}"] = user

    def client(self, user: str | None = None, *, on: str | None = None) -> Client:
        """A test client on customer ``on``'s host (or the public site), logged in as ``user``."""
        client = Client(HTTP_HOST=host_of(on) if on else settings.HIVE_DOMAIN)
        if user is not None:
            client.force_login(self.users[user])
            if self.users[user].is_staff:
                # A staff login is whole only with its second factor (tenants.two_factor).
                confirm_second_factor(client, staff_authenticator(self.users[user]))
        return client
