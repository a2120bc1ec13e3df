"""`partner.created` for the tenant's systems (outbound webhooks, accounts/outbound/)."""

from __future__ import annotations

from typing import Any

from accounts.outbound.events import emit_event, subscribed_event_types
from partners.models import Partner


def partner_data(partner: Partner) -> dict[str, Any]:
    """The partner as GET /api/v1/partners/{id} names it (without its links, which are referrals')."""
    return {
        "id": partner.pk,
        "name": partner.name,
        "email": partner.email,
        "company": partner.company,
        "country": partner.country,
        "status": partner.status,
        "program_id": partner.program_id,
        "group_id": partner.group_id,
        "external_id": partner.external_id,
        "created_at": partner.created_at.isoformat() if partner.created_at else None,
    }


def emit_partner_created(partner: Partner) -> None:
    if "partner.created" in subscribed_event_types(partner.workspace_id):
        emit_event(partner.workspace_id, "partner.created", partner_data(partner))
