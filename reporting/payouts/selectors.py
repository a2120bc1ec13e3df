"""Reads of payouts: periods with their totals, statements, one partner's statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from accounts.models import Workspace
from accounts.tenancy import get_for_workspace_or_404
from partners.models import Partner
from reporting.payouts.models import PayoutPeriod, Statement


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    statements: int
    total: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.paid


def periods(workspace: Workspace) -> QuerySet[PayoutPeriod]:
    return PayoutPeriod.objects.for_workspace(workspace).annotate(statement_count=Count("statements")).order_by("-end")


def totals_by_currency(statements: QuerySet[Statement]) -> list[CurrencyTotal]:
    rows = statements.values("currency").annotate(n=Count("pk"), total=Sum("total")).order_by("currency")
    paid = dict(
        statements.filter(status=Statement.Status.PAID)
        .values("currency")
        .annotate(total=Sum("total"))
        .order_by()
        .values_list("currency", "total")
    )
    return [CurrencyTotal(r["currency"], r["n"], r["total"], paid.get(r["currency"]) or Decimal("0")) for r in rows]


def period_totals(workspace: Workspace) -> dict[int, list[CurrencyTotal]]:
    """Per period, its statements' totals per currency (one query for the list page)."""
    rows = (
        Statement.objects.for_workspace(workspace)
        .values("period_id", "currency", "status")
        .annotate(n=Count("pk"), total=Sum("total"))
        .order_by("period_id", "currency")
    )
    acc: dict[tuple[int, str], list] = {}
    for row in rows:
        entry = acc.setdefault((row["period_id"], row["currency"]), [0, Decimal("0"), Decimal("0")])
        entry[0] += row["n"]
        entry[1] += row["total"]
        if row["status"] == Statement.Status.PAID:
            entry[2] += row["total"]
    result: dict[int, list[CurrencyTotal]] = {}
    for (period_id, currency), (n, total, paid) in acc.items():
        result.setdefault(period_id, []).append(CurrencyTotal(currency, n, total, paid))
    return result


def get_period_or_404(workspace: Workspace, period_id: int) -> PayoutPeriod:
    return get_for_workspace_or_404(PayoutPeriod.objects, workspace, pk=period_id)


def get_statement_or_404(workspace: Workspace, statement_id: int) -> Statement:
    return get_for_workspace_or_404(
        Statement.objects.select_related("period", "workspace", "partner"), workspace, pk=statement_id
    )


def statements(workspace: Workspace) -> QuerySet[Statement]:
    return Statement.objects.for_workspace(workspace).select_related("period")


def period_statements(period: PayoutPeriod) -> QuerySet[Statement]:
    return Statement.objects.for_workspace(period.workspace).filter(period=period).select_related("period", "workspace")


def find_period(workspace: Workspace, value: str) -> PayoutPeriod | None:
    """A period named by its id or by its end date (YYYY-MM-DD); None when neither matches."""
    value = value.strip()
    lookup: dict[str, object]
    if value.isdigit():
        lookup = {"pk": int(value)}
    else:
        try:
            lookup = {"end": date.fromisoformat(value)}
        except ValueError:
            return None
    return PayoutPeriod.objects.for_workspace(workspace).filter(**lookup).first()


def partner_statements(partner: Partner) -> QuerySet[Statement]:
    return (
        Statement.objects.for_workspace(partner.workspace)
        .filter(partner=partner)
        .select_related("period", "payout")
        .order_by("-issued_at", "-pk")
    )


def get_partner_statement_or_404(partner: Partner, statement_id: int) -> Statement:
    return get_for_workspace_or_404(
        Statement.objects.filter(partner=partner).select_related("period", "workspace"),
        partner.workspace,
        pk=statement_id,
    )
