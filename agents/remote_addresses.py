"""Where a customer's repository URL may lead: public internet addresses only.

The platform's workers fetch from and push to the URL a customer typed, from inside our network;
a URL naming ``169.254.169.254`` (cloud metadata), ``127.0.0.1:5432`` (our database), ``10.0.0.5``
or ``[::1]`` would make them talk to our own services (server-side request forgery). Refused:
loopback, private, link-local, shared (CGNAT), multicast, reserved and unspecified addresses, the
name ``localhost``, an address written in a form other than its canonical one (``2130706433``,
``0177.0.0.1``, ``0x7f.1``: curl and ssh read them as 127.0.0.1), and a host name any of whose
addresses is one of those.

Checked twice: when the URL is entered (``check_host``, a clear message on the form) and right
before each git command (``resolve_public``): the name is resolved, every address checked, and
git is pinned to the checked address (``http.curloptResolve`` for https, ``HostName`` for ssh),
so a DNS answer that changes between the check and the connection (rebinding) is not followed.
Redirects are off for every remote command (``agents.hostgit``).

``HIVE_GIT_ALLOW_PRIVATE_REMOTES`` (off by default) lets tests and local installs use remotes on
their own network. The standard library's ``ipaddress`` does the classification; nothing here
needs more.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED = (
    "This repository address is on a private, local or reserved network, which our workers may "
    "not reach: use the repository's public https:// or ssh:// address."
)
_NUMERIC = re.compile(r"^[0-9a-fA-FxX.]+$")


class AddressRefused(Exception):
    """The host is not a public internet address; the message is safe to show."""


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not address.is_multicast


def literal_address(host: str) -> Address | None:
    """The address ``host`` is when written as an IP literal, in any form curl or ssh accept."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _NUMERIC.match(name) and any(char.isdigit() for char in name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _resolved(host: str, port: int) -> list[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _check_literal(host: str) -> Address | None:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        raise AddressRefused(REFUSED)
    address = literal_address(name)
    if address is None:
        return None
    if str(address) != name.strip("[]") or not is_public(address):
        raise AddressRefused(REFUSED)
    return address


def check_host(host: str, port: int) -> None:
    """Refuse ``host`` when it is, or resolves to, a non-public address. A name that does not
    resolve now passes here (the form does not need the network); ``resolve_public`` refuses it."""
    if settings.HIVE_GIT_ALLOW_PRIVATE_REMOTES or _check_literal(host) is not None:
        return
    try:
        addresses = _resolved(host, port)
    except (OSError, UnicodeError):
        return
    if not all(is_public(address) for address in addresses):
        raise AddressRefused(REFUSED)


def resolve_public(host: str, port: int) -> Address | None:
    """The checked address to connect to for ``host`` (None: connect by name, private remotes
    being allowed); AddressRefused when it does not resolve or any address is not public."""
    if settings.HIVE_GIT_ALLOW_PRIVATE_REMOTES:
        return None
    literal = _check_literal(host)
    if literal is not None:
        return literal
    try:
        addresses = _resolved(host, port)
    except (OSError, UnicodeError):
        raise AddressRefused(f"The repository host {host[:80]} could not be resolved.") from None
    if not addresses or not all(is_public(address) for address in addresses):
        raise AddressRefused(REFUSED)
    return addresses[0]
