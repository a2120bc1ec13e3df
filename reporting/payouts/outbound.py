"""What payouts tell the tenant's systems through outbound webhooks (accounts/outbound/): statements
issued and paid. Built from the statements in hand (no query); nothing when no endpoint hears it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accounts.outbound.events import emit_events, subscribed_event_types
from core.currency import round_money
from reporting.payouts.models import Statement


def statement_data(s: Statement) -> dict[str, Any]:
    def money(amount: Any) -> str:
        return f"{round_money(amount, s.currency):f}"

    return {
        "id": s.pk,
        "number": s.number,
        "partner_id": s.partner_id,
        "period_id": s.period_id,
        "status": s.status,
        "currency": s.currency,
        "total": money(s.total),
        "commission_total": money(s.commission_total),
        "reversal_total": money(s.reversal_total),
        "adjustment_total": money(s.adjustment_total),
        "issued_at": s.issued_at.isoformat() if s.issued_at else None,
        "paid_at": s.paid_at.isoformat() if s.paid_at else None,
    }


def emit_statements(workspace_id: int, event_type: str, statements: Sequence[Statement]) -> None:
    """`statement.issued` or `statement.paid` for each statement."""
    if statements and event_type in subscribed_event_types(workspace_id):
        emit_events(workspace_id, event_type, [statement_data(s) for s in statements])
