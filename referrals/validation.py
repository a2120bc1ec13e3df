"""Rules for link codes, referral codes and link destinations (pure checks; the services call them).

Destination rule: the URL must be http(s) and its host must be one of the workspace's verified
domains or a subdomain of one (verifying `example.com` covers `shop.example.com`; verifying
`shop.example.com` does not cover `example.com`). Whoever controls a domain controls its
subdomains, and a host like `example.com.evil.net` or `evilexample.com` never matches.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

import ada_url
from django.core.exceptions import ValidationError

from accounts.domains import ascii_host, display_domain, is_ip_address
from accounts.models import Domain, Workspace

# No 0/o, 1/l/i: codes are read aloud, printed and typed from posters.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
GENERATED_CODE_LENGTH = 7
CODE_MIN_LENGTH = 3
CODE_MAX_LENGTH = 40
_CODE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# Words a link code may not be: they name Tandem's own pages or would confuse people reading the URL.
RESERVED_CODES = frozenset(
    {
        "admin",
        "api",
        "r",
        "w",
        "portal",
        "login",
        "logout",
        "static",
        "media",
        "healthz",
        "webhooks",
        "signup",
        "register",
        "apply",
        "docs",
        "help",
        "support",
        "settings",
        "account",
        "tandem",
        "www",
        "null",
        "undefined",
        "bench",
    }
)
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_URL_LENGTH = 2000


def generate_code(length: int = GENERATED_CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(raw: str, *, what: str = "code") -> str:
    """Lower-case and check a chosen code: 3–40 of a–z, 0–9 and dashes, not a reserved word."""
    code = (raw or "").strip().lower()
    if not (CODE_MIN_LENGTH <= len(code) <= CODE_MAX_LENGTH):
        raise ValidationError(f"A {what} needs {CODE_MIN_LENGTH} to {CODE_MAX_LENGTH} characters.")
    if not _CODE_RE.match(code):
        raise ValidationError(
            f"Use only letters a–z, digits and dashes in a {what}, starting and ending with a letter or digit."
        )
    if "--" in code:
        raise ValidationError(f"A {what} cannot contain two dashes in a row.")
    if code in RESERVED_CODES:
        raise ValidationError(f"“{code}” is reserved by Tandem; choose another {what}.")
    return code


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


def redirect_parts(destination_url: str, utm: dict[str, str]) -> tuple[str, str]:
    """Split the redirect target around the click id: `head + tclid + tail`.

    The destination's own query is kept; a UTM value set on the link replaces the same key in the
    destination; any `tclid` already in the destination is dropped so ours is the only one.
    """
    parts = urlsplit(destination_url)
    replaced = {key for key, value in utm.items() if value} | {"tclid"}
    # The tenant's own parameters are kept byte for byte (they may be signed); only keys we set are dropped.
    kept = [piece for piece in parts.query.split("&") if piece and unquote_plus(piece.split("=", 1)[0]) not in replaced]
    added = urlencode([(key, value) for key, value in utm.items() if value])
    query = "&".join(kept + ([added] if added else []))
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    head = base + ("&" if query else "?") + "tclid="
    tail = "#" + parts.fragment if parts.fragment else ""
    return head, tail
