"""Hashing a visitor's address: HMAC-SHA256 digests under a salt that changes every UTC day.

The salt is derived from SECRET_KEY, CLICK_IP_SALT and the date, so the raw address never reaches
Redis, PostgreSQL or a log, and yesterday's digests cannot be linked to today's once the day's salt
is gone from memory.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from functools import lru_cache
from typing import Any

from django.conf import settings


@lru_cache(maxsize=4)
def _day_mac(day: date) -> hmac.HMAC:
    # Keyed once per day; each hash then starts from a copy (cheaper than a new HMAC every time).
    material = f"tandem.click-ip:{settings.CLICK_IP_SALT}:{day.isoformat()}".encode()
    salt = hmac.new(settings.SECRET_KEY.encode(), material, hashlib.sha256).digest()
    return hmac.new(salt, digestmod=hashlib.sha256)


def _mac(day: date, message: str) -> str:
    mac = _day_mac(day).copy()
    mac.update(message.encode("utf-8", "surrogateescape"))
    return mac.hexdigest()


def ip_hash(ip: str, day: date) -> str:
    return _mac(day, ip)


def visitor_hash(ip: str, user_agent: str, day: date) -> str:
    return _mac(day, f"{ip}\n{user_agent}")[:32]


def client_ip(meta: dict[str, Any]) -> str:
    """The visitor's address: REMOTE_ADDR, or the one our N trusted proxies saw (CLICK_TRUSTED_PROXIES)."""
    proxies = settings.CLICK_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR", "") or ""
