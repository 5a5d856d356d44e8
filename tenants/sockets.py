"""Open websockets of a portal: who they belong to, keeping them alive, and ending them when the
person's access ends.

A handshake is checked once (``tenants.websockets``); a socket then stays open for hours. So every
portal consumer (``PortalConsumer``) also joins two channel-layer groups named here — one per user
(``sockets.user.<id>``) and one per customer (``sockets.customer.<schema>``) — and whoever changes
access sends ``access.recheck`` to the group concerned, once the change has committed. Each
consumer then checks again, from the database and the session store rather than from caches or
its scope: is its session still logged in as the same user (a logout deletes the session, a new
password changes the session hash), is the user still active, still a member (and with which
role), is the customer still active? If not, it closes with ``ACCESS_ENDED`` (4403), a code the
htmx ws extension does not reconnect after; the page reloads and the server says what is left.

The messages come from the receivers below, so every write path is covered (services, the admin,
Django's password reset): a membership saved or deleted, a customer saved, a user saved (other
than the ``last_login`` stamp of a login), a user logged out. Rechecking is idempotent and cheap
(a few indexed queries per open socket), so a message too many costs little; one too few would
leave a removed person watching. Apps above ``tenants`` subclass ``PortalConsumer`` and never
need to know what changed.

The keep-alive: a consumer sends ``KEEPALIVE_FRAME`` (an HTML comment, which the htmx ws
extension swaps nowhere) every ``HIVE_WEBSOCKET_KEEPALIVE_SECONDS``, so proxies and NAT tables that
drop idle connections never see one idle, and a dead client is noticed by the failed send.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from importlib import import_module
from typing import Any, cast

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest

from tenants.models import Customer, Membership, Role, User
from tenants.websockets import websocket_role

log = logging.getLogger(__name__)

ACCESS_ENDED = 4403  # websocket close code: access ended; clients must not reconnect
KEEPALIVE_FRAME = "<!-- keep-alive -->"
RECHECK = {"type": "access.recheck"}
SEND_TIMEOUT_SECONDS = 2.0


def user_sockets_group(user_id: int) -> str:
    return f"sockets.user.{user_id}"


def customer_sockets_group(schema_name: str) -> str:
    return f"sockets.customer.{schema_name}"


# --- telling open sockets to check again ----------------------------------------------------


def _send(groups: tuple[str, ...]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, dict(RECHECK))

    def run() -> None:
        try:
            async_to_sync(send_all)()
        except Exception:  # the sockets would stay open: say so loudly, the change itself stands
            log.exception("could not tell open sockets of %s to check access again", groups)

    # A thread of its own: the caller may be anywhere (a request, a Celery task, a thread with a
    # running event loop such as the browser tests' Playwright), and async_to_sync needs none.
    # Joined, so the change's response leaves only after the sockets were told.
    sender = threading.Thread(target=run, name="sockets-recheck", daemon=True)
    sender.start()
    sender.join(SEND_TIMEOUT_SECONDS)


def sockets_recheck(*groups: str) -> None:
    """Have every socket in ``groups`` check its access again once the transaction commits."""
    transaction.on_commit(lambda: _send(groups))


def _membership_changed(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    if not kwargs.get("created"):
        sockets_recheck(user_sockets_group(instance.user_id))


def _customer_changed(sender: type[Customer], instance: Customer, **kwargs: Any) -> None:
    if not kwargs.get("created"):
        sockets_recheck(customer_sockets_group(instance.schema_name))


def _user_changed(sender: type[User], instance: User, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if kwargs.get("created") or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new user has no sockets; a login's last_login stamp changes no access
    sockets_recheck(user_sockets_group(instance.pk))


def _user_logged_out(sender: object, user: User | None = None, **_: Any) -> None:
    if user is not None:
        sockets_recheck(user_sockets_group(user.pk))


def connect_revocation() -> None:
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="sockets_membership_save")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="sockets_membership_delete")
    post_save.connect(_customer_changed, sender=Customer, dispatch_uid="sockets_customer_save")
    post_delete.connect(_customer_changed, sender=Customer, dispatch_uid="sockets_customer_delete")
    post_save.connect(_user_changed, sender=User, dispatch_uid="sockets_user_save")
    user_logged_out.connect(_user_logged_out, dispatch_uid="sockets_user_logged_out")


# --- checking again -----------------------------------------------------------------------


class _SessionHolder:
    """What ``django.contrib.auth.get_user`` reads of a request: its session."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session


def websocket_role_now(scope: dict[str, Any]) -> Role | None:
    """The role the socket's session gives in its customer *now*, or None when access has ended.

    Reads the session store, the user, the membership and the customer afresh (no cache: a
    cached membership may outlive the commit that removed it). Call from a sync context.
    """
    scoped_user = scope.get("user")
    session: SessionBase | None = scope.get("session")
    customer: Customer | None = scope.get("customer")
    if not isinstance(scoped_user, User) or session is None or customer is None or not session.session_key:
        return None
    store = cast(SessionBase, import_module(settings.SESSION_ENGINE).SessionStore(session.session_key))
    # Django's own check: logged in, known backend, session hash matching the current password.
    user = auth.get_user(cast(HttpRequest, _SessionHolder(store)))
    if not isinstance(user, User) or user.pk != scoped_user.pk:
        return None
    fresh = Customer.objects.filter(pk=customer.pk).first()
    if fresh is None:
        return None
    return websocket_role(dict(scope, user=user, customer=fresh, session=store), fresh=True)


class PortalConsumer(AsyncWebsocketConsumer):
    """A websocket of a customer's portal that ends when its user's access ends, and stays alive
    while it lasts. Subclasses admit in ``connect`` and call ``portal_accept`` instead of ``accept``."""

    role: Role | None = None
    _portal_groups: tuple[str, ...] = ()
    _keepalive: asyncio.Task[None] | None = None
    _ended = False

    async def portal_accept(self, role: Role) -> None:
        self.role = role
        user: User = self.scope["user"]
        self._portal_groups = (user_sockets_group(user.pk), customer_sockets_group(self.scope["schema_name"]))
        for group in self._portal_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self._keepalive = asyncio.ensure_future(self._keep_alive())

    async def disconnect(self, code: int) -> None:
        self._ended = True
        if self._keepalive is not None:
            self._keepalive.cancel()
        for group in self._portal_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        # After the socket was closed for lost access, a frame already being rendered is dropped
        # (sending after close is a protocol error in the server).
        if not self._ended:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def access_recheck(self, message: dict[str, Any]) -> None:
        if self._ended:
            return
        role = await database_sync_to_async(websocket_role_now)(self.scope)
        if role is None:
            await self.access_end()
        elif role != self.role:
            self.role = role
            await self.access_changed(role)

    async def access_changed(self, role: Role) -> None:
        """The user's role changed but still gives access: subclasses re-send what it shows."""

    async def access_end(self) -> None:
        if not self._ended:
            self._ended = True
            if self._keepalive is not None:
                self._keepalive.cancel()
            await super().close(code=ACCESS_ENDED)

    async def _keep_alive(self) -> None:
        try:
            while not self._ended:
                await asyncio.sleep(settings.HIVE_WEBSOCKET_KEEPALIVE_SECONDS)
                await self.send(text_data=KEEPALIVE_FRAME)
        except OSError:  # the client has gone; the server is about to tell the consumer
            log.debug("keep-alive of %s found the client gone", self.channel_name)
