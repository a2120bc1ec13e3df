"""What attribution tells the tenant's systems through outbound webhooks (accounts/outbound/): commissions
created, approved and reversed. Each function costs nothing when no endpoint hears the event, and one
query for a whole batch when one does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from accounts.outbound.events import emit_events, subscribed_event_types
from attribution.models import Commission
from core.currency import round_money


def _money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency):f}"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def commission_data(c: Commission) -> dict[str, Any]:
    """A commission as GET /api/v1/commissions names it: public ids, amounts as decimal strings."""
    return {
        "id": c.pk,
        "partner_id": c.partner_id,
        "program_id": c.program_id,
        "kind": c.kind,
        "status": c.status,
        "amount": _money(c.amount, c.currency),
        "reversed_amount": _money(c.reversed_amount, c.currency),
        "currency": c.currency,
        "event_id": c.conversion.event_id if c.conversion_id and c.conversion else None,
        "occurred_at": _iso(c.occurred_at),
        "hold_until": _iso(c.hold_until),
        "approved_at": _iso(c.approved_at),
        "risk": {"score": c.risk_score},
        "created_at": _iso(c.created_at),
    }


def _load(workspace_id: int, ids: Iterable[int]) -> dict[int, Commission]:
    rows = Commission.objects.filter(workspace_id=workspace_id, pk__in=list(ids)).select_related("conversion")
    return {c.pk: c for c in rows.order_by("pk")}


def emit_commissions(workspace_id: int, event_type: str, ids: Sequence[int]) -> None:
    """`commission.created` or `commission.approved` for these commissions, in one query."""
    if not ids or event_type not in subscribed_event_types(workspace_id):
        return
    emit_events(workspace_id, event_type, [commission_data(c) for c in _load(workspace_id, ids).values()])


def emit_commission_reversals(workspace_id: int, reversals: Sequence[tuple[int, Decimal, str]]) -> None:
    """`commission.reversed` once per reversal: (commission id, amount taken back, the refund's event_id)."""
    if not reversals or "commission.reversed" not in subscribed_event_types(workspace_id):
        return
    commissions = _load(workspace_id, {commission_id for commission_id, _, _ in reversals})
    emit_events(
        workspace_id,
        "commission.reversed",
        [
            {
                **commission_data(commissions[commission_id]),
                "reversal": {
                    "amount": _money(amount, commissions[commission_id].currency),
                    "currency": commissions[commission_id].currency,
                    "refund_event_id": refund_event_id,
                },
            }
            for commission_id, amount, refund_event_id in reversals
            if commission_id in commissions
        ],
    )
