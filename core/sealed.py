"""Secrets kept in the database sealed (Fernet: AES with an HMAC), so a dump or a replica leaks no
bank account, tax number or API key. The key comes from `settings.PAYOUT_DETAILS_KEY`; several keys,
comma-separated, let an operator rotate: the first seals, every one of them unseals.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SealBroken(Exception):
    """A sealed value that no configured key opens: the key changed, or the value was tampered with."""


@cache
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "PAYOUT_DETAILS_KEY must be one or more Fernet keys (32 url-safe base64-encoded bytes), comma-separated."
        ) from exc


def seal(text: str) -> str:
    """`text` encrypted and authenticated, as ASCII that fits a text column."""
    return _fernet(settings.PAYOUT_DETAILS_KEY).encrypt(text.encode()).decode("ascii")


def unseal(token: str) -> str:
    """The text `seal` was given. Raises SealBroken when no configured key opens it."""
    try:
        return _fernet(settings.PAYOUT_DETAILS_KEY).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SealBroken("A sealed value could not be opened with PAYOUT_DETAILS_KEY.") from exc
