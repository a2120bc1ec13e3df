"""Telling partners about their new commissions, in plain words (partners.notifications sends the email).

Called in the transaction that inserted the commissions: one notification row per commission, all in
one statement, and one email task per set after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.currency import format_money, round_money
from partners.notifications.models import Kind
from partners.notifications.sending import NotifyItem, notify_partners


def commission_reason(explanation: dict[str, Any]) -> str:
    """Why the commission was earned, as the partner reads it: the bonus's reason, or the sale and the rule."""
    manual = explanation.get("manual") or {}
    if manual.get("reason"):
        return str(manual["reason"])
    rule = explanation.get("reward_rule") or {}
    sale = explanation.get("sale") or {}
    parts = []
    if sale.get("amount"):
        parts.append(f"A sale of {format_money(Decimal(sale['amount']), sale.get('currency', ''))}")
    elif explanation.get("lead") or not sale:
        parts.append("A new referred customer")
    if rule.get("terms"):
        parts.append(f"under {rule['terms']}")
    reason = " ".join(parts)
    calculation = str(explanation.get("calculation") or "").strip()
    if calculation:
        reason += f" ({calculation.rstrip('.')})"
    return reason + "." if reason else ""


def _payable_note(hold_until: datetime | str | None) -> str:
    if not hold_until:
        return ""
    when = datetime.fromisoformat(hold_until) if isinstance(hold_until, str) else hold_until
    return f"It can be approved for payment from {when.day} {when:%b %Y}, once the refund period has passed."


def tell_partners_of_commissions(*, workspace_id: int, commissions: Iterable[dict[str, Any]]) -> int:
    """One email per new commission that is owed. Each item: id, partner_id, amount, currency,
    explanation (a dict or its JSON) and optionally hold_until."""
    items = []
    for row in commissions:
        explanation = row.get("explanation") or {}
        if isinstance(explanation, str):
            explanation = json.loads(explanation)
        manual = bool(explanation.get("manual"))
        items.append(
            NotifyItem(
                partner_id=row["partner_id"],
                object_key=f"commission:{row['id']}",
                details={
                    "amount": str(round_money(Decimal(row["amount"]), row["currency"])),
                    "currency": row["currency"],
                    "reason": commission_reason(explanation),
                    "when_payable": "" if manual else _payable_note(row.get("hold_until")),
                },
            )
        )
    return notify_partners(workspace_id=workspace_id, kind=Kind.NEW_COMMISSION, items=items)
