"""Rules for link codes, referral codes and link destinations (pure checks; the services call them).

The destination rule lives in accounts/destinations.py (a program's default destination is checked
by the same rule) and is re-exported here under its old names.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError

from accounts.destinations import MAX_URL_LENGTH as MAX_URL_LENGTH
from accounts.destinations import host_is_verified as host_is_verified
from accounts.destinations import validate_destination as validate_destination

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
