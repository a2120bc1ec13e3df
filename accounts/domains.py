"""Destination domains: how a typed domain is read, shown, and proven by a DNS TXT record.

Hosts are read as browsers read them (the WHATWG URL standard, through ada-url), so what Tandem
checks is exactly where a visitor would land: percent-escapes, full-width letters, upper case and
IDNs all become the one ASCII (punycode) form that is stored and compared.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass

import ada_url
import dns.exception
import dns.resolver
from django.conf import settings
from django.core.exceptions import ValidationError

VERIFICATION_PREFIX = "tandem-verify="
# Letters, digits and inner dashes per label; the last label letters only, or an IDN TLD (xn--…).
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_PORT_RE = re.compile(r":\d*$")


def new_verification_token() -> str:
    # Hex, not base64: some DNS panels change the case of TXT values, and hex survives that check.
    return secrets.token_hex(16)


def verification_value(token: str) -> str:
    return VERIFICATION_PREFIX + token


def display_domain(ascii_domain: str) -> str:
    """The domain as people read it: `xn--bcher-kva.example` → `bücher.example`."""
    try:
        return ada_url.idna_to_unicode(ascii_domain) or ascii_domain
    except (ValueError, UnicodeError):
        return ascii_domain


def _valid_punycode(host: str) -> bool:
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return False
    return True


def ascii_host(hostname: str) -> str:
    """A WHATWG-parsed hostname without its root dot (`shop.example.` and `shop.example` are one host)."""
    return hostname[:-1] if hostname.endswith(".") else hostname


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def normalize_domain(raw: str) -> str:
    """The ASCII form of a bare host name, or a ValidationError saying what to leave out.

    A pasted address (`https://Shop.example/`) is fine as long as it names only a host.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a domain such as shop.example.com.")
    if "*" in text:
        raise ValidationError("Wildcards are not allowed; add each domain you send traffic to.")
    has_scheme = "://" in text
    authority = text.split("://", 1)[1] if has_scheme else text
    authority = re.split(r"[/?#\\]", authority, maxsplit=1)[0]
    if "@" in authority:
        raise ValidationError("Enter a bare domain such as shop.example.com, without a user name or password.")
    if _PORT_RE.search(authority) and not authority.endswith("]"):
        raise ValidationError("Leave out the port; a domain covers every port.")
    try:
        url = ada_url.URL(text if has_scheme else "https://" + text)
    except ValueError as exc:
        raise ValidationError("That is not a valid domain name, for example shop.example.com.") from exc
    if url.protocol not in ("http:", "https:"):
        raise ValidationError("Enter a bare domain such as shop.example.com, without https:// or a path.")
    if url.pathname not in ("", "/") or url.search or url.hash:
        raise ValidationError("Enter a bare domain such as shop.example.com, without a path.")
    host = ascii_host(url.hostname)
    if is_ip_address(host):
        raise ValidationError("Enter a domain name, not an IP address.")
    if not _DOMAIN_RE.match(host) or not _valid_punycode(host):
        raise ValidationError("That is not a valid domain name, for example shop.example.com.")
    return host


# --- Proof of ownership -----------------------------------------------------------------


@dataclass(frozen=True)
class LookupResult:
    found: bool
    detail: str  # one sentence for the person who has to fix their DNS


def _host_and_port(item: str) -> tuple[str, int | None]:
    """`127.0.0.1:5353`, `[::1]:5353`, `::1` or `10.0.0.2` → (host, port or None)."""
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if item.count(":") == 1:
        host, port = item.split(":")
        return host, int(port)
    return item, None


def _resolver() -> dns.resolver.Resolver:
    """The system's resolver, or the servers of DNS_RESOLVER (`host:port`, comma-separated)."""
    configured = [item.strip() for item in settings.DNS_RESOLVER.split(",") if item.strip()]
    resolver = dns.resolver.Resolver(configure=not configured)
    if configured:
        servers = [_host_and_port(item) for item in configured]
        resolver.nameservers = [host for host, _ in servers]
        # dnspython asks every server on one port; the last one named wins.
        resolver.port = next((port for _, port in reversed(servers) if port), 53)
    resolver.timeout = resolver.lifetime = settings.DNS_TIMEOUT_SECONDS
    return resolver


def find_verification_record(domain: str, token: str) -> LookupResult:
    """Look for the TXT record `tandem-verify=<token>` on the domain itself."""
    expected = verification_value(token)
    try:
        answer = _resolver().resolve(domain, "TXT", raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return LookupResult(False, f"{display_domain(domain)} does not exist in DNS yet.")
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.NoResolverConfiguration):
        return LookupResult(False, "DNS did not answer in time; Tandem will try again.")
    values = [b"".join(record.strings).decode("utf-8", "replace").strip() for record in (answer.rrset or [])]
    if expected in values:
        return LookupResult(True, f"Found {expected}.")
    if any(value.startswith(VERIFICATION_PREFIX) for value in values):
        return LookupResult(
            False, "A tandem-verify record is there, but with another value; copy the value shown here."
        )
    return LookupResult(
        False, f"No TXT record {expected} on {display_domain(domain)} yet; DNS changes can take a while to appear."
    )
