"""Telling partners they were paid (partners.notifications sends the email after the commit)."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.models import Workspace
from attribution.rewards import round_money
from partners.notifications.models import Kind
from partners.notifications.sending import NotifyItem, notify_partners
from reporting.payouts.models import Statement


def tell_partners_paid(*, workspace: Workspace, statements: Sequence[Statement], reference: str = "") -> int:
    """One payout email per statement newly paid; one insert for the whole batch."""
    return notify_partners(
        workspace_id=workspace.pk,
        kind=Kind.PAYOUT_MADE,
        items=[
            NotifyItem(
                partner_id=s.partner_id,
                object_key=f"statement:{s.pk}",
                details={
                    "amount": str(round_money(s.total, s.currency)),
                    "currency": s.currency,
                    "statement_number": s.number,
                    "method": s.payout_method_label,
                    "reference": reference[:120],
                },
            )
            for s in statements
        ],
    )
