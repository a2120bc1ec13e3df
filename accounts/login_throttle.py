"""Sign-in throttling: an account is locked after AXES_FAILURE_LIMIT failures from anywhere, and an
IP address after AXES_IP_FAILURE_LIMIT failures across any accounts (one address trying many
email addresses), each for AXES_COOLOFF_TIME.

django-axes counts both (AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]) but holds them to one
limit; an office behind one address needs a higher limit than one account, so the address's count
is held to its own limit here.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def _failures(attempts: Any) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class AccountAndAddressHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """Failures as axes compares them with AXES_FAILURE_LIMIT: the account's own count, or the
        full limit once the address has reached AXES_IP_FAILURE_LIMIT."""
        attempts = self.get_user_attempts(request, credentials)  # one queryset per lockout parameter
        counts = {
            str(param): _failures(qs) for param, qs in zip(settings.AXES_LOCKOUT_PARAMETERS, attempts, strict=True)
        }
        by_account, by_address = counts.get("username", 0), counts.get("ip_address", 0)
        address_locked = by_address >= settings.AXES_IP_FAILURE_LIMIT
        return max(by_account, settings.AXES_FAILURE_LIMIT if address_locked else 0)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # Signing in proves the account, not the address: an attacker signing in to an account of
        # their own must not wipe the failures their address made against other people's.
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def client_ip(request: HttpRequest) -> str:
    """The address that signs in: REMOTE_ADDR, or the one our N trusted proxies saw (CLICK_TRUSTED_PROXIES).
    Behind a proxy REMOTE_ADDR is the proxy's, and throttling it would lock everyone out at once.
    (The redirect reads clicks' addresses the same way, in referrals.clicks.hashing.client_ip.)"""
    proxies = settings.CLICK_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or ""
