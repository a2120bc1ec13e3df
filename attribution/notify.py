"""Telling partners about their new commissions, in plain words (partners.notifications sends the email).

Called in the transaction that inserted the commissions: one notification row per commission, all in
one statement, and one email task per set after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
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


def _payable_note(hold_until: date | str | None) -> str:
    if not hold_until:
        return ""
    when = datetime.fromisoformat(hold_until) if isinstance(hold_until, str) else hold_until
    return f"It can be approved for payment from {when.day} {when:%b %Y}, once the refund period has passed."


def _reason_key(explanation: dict[str, Any]) -> tuple[Any, ...]:
    """What commission_reason reads: commissions alike in it share one reason (a burst's are mostly alike)."""
    manual, rule, sale = (
        explanation.get("manual") or {},
        explanation.get("reward_rule") or {},
        explanation.get("sale") or {},
    )
    return (
        manual.get("reason"),
        sale.get("amount"),
        sale.get("currency"),
        bool(explanation.get("lead")),
        bool(sale),
        rule.get("terms"),
        explanation.get("calculation"),
    )


def tell_partners_of_commissions(*, workspace_id: int, commissions: Iterable[dict[str, Any]]) -> int:
    """One email per new commission that is owed (a burst is told in one, see partners.notifications).
    Each item: id, partner_id, amount, currency, explanation (a dict or its JSON) and optionally
    hold_until. Commissions alike in amount, reason and payable day share one `details` object."""
    items = []
    reasons: dict[tuple[Any, ...], str] = {}
    alike: dict[tuple[Any, ...], dict[str, str]] = {}
    for row in commissions:
        explanation = row.get("explanation") or {}
        if isinstance(explanation, str):
            explanation = json.loads(explanation)
        key = _reason_key(explanation)
        reason = reasons.get(key)
        if reason is None:
            reason = reasons[key] = commission_reason(explanation)
        hold_until = None if explanation.get("manual") else row.get("hold_until")
        if isinstance(hold_until, datetime):
            hold_until = hold_until.date()  # the note names the day only
        whole = (str(row["amount"]), row["currency"], reason, hold_until)
        details = alike.get(whole)
        if details is None:
            details = alike[whole] = {
                "amount": str(round_money(Decimal(row["amount"]), row["currency"])),
                "currency": row["currency"],
                "reason": reason,
                "when_payable": _payable_note(hold_until),
            }
        items.append(NotifyItem(partner_id=row["partner_id"], object_key=f"commission:{row['id']}", details=details))
    return notify_partners(workspace_id=workspace_id, kind=Kind.NEW_COMMISSION, items=items)
