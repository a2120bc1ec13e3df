"""`referral.created` for the tenant's systems (outbound webhooks, accounts/outbound/). The customer is
named by the tenant's own id, never by email: an erased customer must not live on in a delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.outbound.events import emit_events, subscribed_event_types


def referral_data(
    *,
    referral_id: int,
    partner_id: int,
    program_id: int,
    customer_external_id: str,
    source: str,
    created_at: datetime | None,
) -> dict[str, Any]:
    return {
        "id": referral_id,
        "partner_id": partner_id,
        "program_id": program_id,
        "customer_external_id": customer_external_id or None,
        "source": source,
        "created_at": (created_at or timezone.now()).isoformat(),
    }


def emit_referrals_created(workspace_id: int, referrals: Sequence[dict[str, Any]]) -> None:
    """One `referral.created` per referral (made with referral_data); nothing when no endpoint hears it."""
    if referrals and "referral.created" in subscribed_event_types(workspace_id):
        emit_events(workspace_id, "referral.created", referrals)
