"""The SSRF guard: a webhook may only reach the public internet.

A URL's host is resolved and every address checked; the request then connects to the address that
was checked (accounts/outbound/transport.py), so a name that resolves elsewhere a moment later (DNS
rebinding) cannot slip past. Loopback is allowed only when WEBHOOK_ALLOW_LOOPBACK is on (development
mode by default), so a receiver on the developer's machine works.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services, named for the message (both are also inside refused ranges).
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


class UnsafeDestination(Exception):
    """The URL may not be called: a sentence that says why, for the person who entered it."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as written in the URL (the Host header and TLS server name)
    port: int
    path: str  # with the query string
    address: str  # the checked IP address the connection goes to


def split_url(url: str) -> tuple[str, str, int, str]:
    """scheme, host, port and path of an http(s) URL, or UnsafeDestination."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination("That is not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeDestination("Use an http:// or https:// URL.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeDestination("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeDestination("Leave user names and passwords out of the URL; use the signature to trust Tandem.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def refusal(address: IPAddress) -> str | None:
    """Why Tandem will not connect to this address, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "is a cloud metadata address"
    if address.is_loopback:
        return None if settings.WEBHOOK_ALLOW_LOOPBACK else "is this server itself (loopback)"
    if address.is_link_local:
        return "is a link-local address"
    if address.is_multicast:
        return "is a multicast address"
    if address.is_unspecified or address.is_reserved:
        return "is a reserved address"
    if address.is_private or not address.is_global:
        return "is a private network address"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnresolvableHost(f"{host} could not be found (DNS).") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class UnresolvableHost(UnsafeDestination):
    """The name does not resolve now; at registration this is allowed (DNS may come later)."""


def check_destination(url: str) -> Destination:
    """Resolve the URL's host and pick an address to connect to, refusing the URL if any address the
    name resolves to is not public: a name that mixes public and private answers is not trusted."""
    scheme, host, port, path = split_url(url)
    addresses = resolve(host, port)
    for address in addresses:
        reason = refusal(address)
        if reason:
            shown = host if host == str(address) else f"{host} ({address})"
            raise UnsafeDestination(f"Tandem does not send webhooks to {shown}: it {reason}.")
    if not addresses:
        raise UnresolvableHost(f"{host} could not be found (DNS).")
    return Destination(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))


def check_registration(url: str) -> None:
    """What registering an endpoint refuses: not http(s), or a host that resolves to a refused address.
    A name that does not resolve yet is accepted; its deliveries fail and retry until it does."""
    try:
        check_destination(url)
    except UnresolvableHost:
        return
