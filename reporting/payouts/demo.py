"""The payouts part of the demo workspace: a paid period and an issued one, from the seeded commissions."""

from __future__ import annotations

from datetime import UTC

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Workspace
from attribution.models import Commission
from reporting.payouts.dates import default_period_end
from reporting.payouts.models import PayoutPeriod
from reporting.payouts.statements import close_payout_period, mark_statements_paid


def seed_payouts(*, workspace: Workspace) -> str:
    """Close the month before last (its statements paid) and last month (issued, for finance to pay).

    Safe to repeat: closing an end already closed returns that period, and paid statements stay paid.
    Uses the approved commissions the attribution seed made; with none it seeds nothing and says so.
    """
    if (
        not PayoutPeriod.objects.for_workspace(workspace).exists()
        and not Commission.objects.for_workspace(workspace).filter(status=Commission.Status.APPROVED).exists()
    ):
        return "payouts: no approved commissions yet, so no statements were seeded"
    last_month_end = default_period_end(timezone.now().astimezone(UTC).date())
    month_before_end = default_period_end(last_month_end.replace(day=1))
    try:
        earlier = close_payout_period(
            workspace=workspace, end=month_before_end, actor_label="Demo data", email_partners=False
        )
        paid = mark_statements_paid(
            workspace=workspace,
            statement_ids=[s.pk for s in earlier.statements],
            actor_label="Demo data",
            reference="Demo bank batch",
        )
        latest = close_payout_period(
            workspace=workspace, end=last_month_end, actor_label="Demo data", email_partners=False
        )
    except ValidationError as exc:
        # Someone closed other periods in the demo by hand; the seed leaves their choice alone.
        return f"payouts: left as they are ({' '.join(exc.messages)})"
    return (
        f"payouts: {len(earlier.statements)} statements for {month_before_end:%B} ({len(paid)} newly paid), "
        f"{len(latest.statements)} issued for {last_month_end:%B}"
    )
