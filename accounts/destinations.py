"""Where a partner link may send visitors: a page on one of the workspace's verified domains.

Lives in accounts, beside the domains themselves, so that every app can check a destination: a
program's default destination (partners) as well as a link's (referrals).

Rule: the URL must be http(s) and its host must be one of the workspace's verified domains or a
subdomain of one (verifying `example.com` covers `shop.example.com`; verifying `shop.example.com`
does not cover `example.com`). Whoever controls a domain controls its subdomains, and a host like
`example.com.evil.net` or `evilexample.com` never matches.
"""

from __future__ import annotations

import re

import ada_url
from django.core.exceptions import ValidationError

from accounts.domains import ascii_host, display_domain, is_ip_address
from accounts.models import Domain, Workspace

MAX_URL_LENGTH = 2000


def host_is_verified(host: str, verified: list[str]) -> bool:
    """Both sides in ASCII (punycode) form, so a look-alike IDN never equals the domain it imitates."""
    host = ascii_host(host.lower())
    return any(host == domain or host.endswith("." + domain) for domain in verified)


def validate_destination(*, workspace: Workspace, url: str) -> str:
    """Return the cleaned destination URL, or raise a ValidationError saying what to fix.

    The URL is parsed as browsers parse it (WHATWG, via ada-url), so the host checked here is the
    host a visitor lands on: `https://evil.com%2f.shop.example/` is not a host at all,
    `https://shop.example@evil.com` goes to evil.com, and `https://SHOP.example./x` is shop.example.
    """
    url = (url or "").strip()
    if not url:
        raise ValidationError("Enter the page visitors should land on, e.g. https://shop.example.com/pricing.")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"Keep the destination under {MAX_URL_LENGTH} characters.")
    # Browsers read backslashes as slashes and drop tabs and newlines; refused outright, so what a
    # person reads in the link is what a browser follows.
    if any(ch in url for ch in "\\ \t\r\n") or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValidationError("The destination contains spaces, backslashes or control characters.")
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise ValidationError("The destination must start with https:// (or http://).")
    try:
        parsed = ada_url.URL(url)
    except ValueError as exc:
        raise ValidationError(
            "That is not a valid URL: its domain has characters a browser would not accept (such as %2F or a space)."
        ) from exc
    if parsed.username or parsed.password:
        raise ValidationError(
            "The destination may not contain a user name or password (text before an @ in the domain): "
            f"browsers would go to {display_domain(ascii_host(parsed.hostname))}."
        )
    host = ascii_host(parsed.hostname)
    if not host or is_ip_address(host):
        raise ValidationError("The destination needs a domain name, e.g. https://shop.example.com/, not an IP address.")
    verified = list(
        Domain.objects.for_workspace(workspace).filter(status=Domain.Status.VERIFIED).values_list("domain", flat=True)
    )
    if not verified:
        raise ValidationError("Verify a domain in Settings → Domains first; links may only point to verified domains.")
    if not host_is_verified(host, [d.lower() for d in verified]):
        shown = display_domain(host)
        named = shown if shown == host else f"{shown} ({host})"
        raise ValidationError(
            f"{named} is not one of this workspace's verified domains "
            f"({', '.join(display_domain(d) for d in sorted(verified))}) or a subdomain of one."
        )
    # The browser's own serialization: lower-case scheme and host, no root dot, default port dropped.
    parsed.hostname = host
    return parsed.href


def first_verified_root(*, workspace: Workspace) -> str | None:
    """The home page of the workspace's first verified domain (the oldest), or None while none is verified."""
    domain = (
        Domain.objects.for_workspace(workspace)
        .filter(status=Domain.Status.VERIFIED)
        .order_by("pk")
        .values_list("domain", flat=True)
        .first()
    )
    return f"https://{domain}/" if domain else None
