"""Partners with their all-time figures, as one query: each figure is a correlated subquery, so a page
of 25 partners, or a sort over all of them, costs one statement, not one per row."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import (
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from attribution.models import Commission
from core.currency import plain_amount
from core.spreadsheets import safe_cell
from partners.models import Partner
from reporting.rollups.models import MonthlyPartnerRollup

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=6)

# What a person may sort by (the `sort` query parameter, `-` first for the largest first), and the column.
SORTS: dict[str, str] = {
    "name": "name",
    "clicks": "click_count",
    "customers": "customer_count",
    "revenue": "revenue_total",
    "due": "commissions_due",
    "since": "created_at",
}
DEFAULT_SORT = "name"


def _rollup_sum(expression: Any, output: Any) -> Coalesce:
    """The partner's all-time sum of a rollup measure, in its program's currency."""
    rows = (
        MonthlyPartnerRollup.objects.filter(
            workspace_id=OuterRef("workspace_id"), partner_id=OuterRef("pk"), currency=OuterRef("program__currency")
        )
        .order_by()
        .values("partner_id")
        .annotate(total=Sum(expression))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=output), Value(0, output_field=output))


def with_figures(partners: QuerySet[Partner]) -> QuerySet[Partner]:
    """Annotate `click_count` (human), `customer_count` (referrals with a sale), `revenue_total` (sales less refunds)
    and `commissions_due` (approved, not yet paid, net of refunds): all time, in the program's currency."""
    due = (
        Commission.objects.filter(
            workspace_id=OuterRef("workspace_id"), partner_id=OuterRef("pk"), status=Commission.Status.APPROVED
        )
        .order_by()
        .values("partner_id")
        .annotate(total=Sum(F("amount") - F("reversed_amount")))
        .values("total")
    )
    return partners.annotate(
        click_count=_rollup_sum(F("clicks"), IntegerField()),
        customer_count=_rollup_sum(F("customers"), IntegerField()),
        revenue_total=_rollup_sum(F("sales_amount") - F("refunds_amount"), MONEY),
        commissions_due=Coalesce(Subquery(due, output_field=MONEY), Value(ZERO, output_field=MONEY)),
    )


def sorted_by(partners: QuerySet[Partner], sort: str) -> tuple[QuerySet[Partner], str]:
    """The partners in the asked order (an unknown sort is the default), with the sort actually used.
    Figures sort largest first by default; ties fall back to the name, then the id, so pages never overlap."""
    key = sort.removeprefix("-")
    if key not in SORTS:
        sort, key = DEFAULT_SORT, DEFAULT_SORT
    column = F(SORTS[key])
    ordered = column.desc() if sort.startswith("-") else column.asc()
    return partners.order_by(ordered, "name", "pk"), sort


CSV_HEADER = [
    "id",
    "name",
    "email",
    "company",
    "country",
    "status",
    "program",
    "group",
    "currency",
    "clicks",
    "customers",
    "revenue",
    "commissions_due",
    "joined",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def partners_csv(partners: QuerySet[Partner]) -> Iterator[str]:
    """The partners as CSV lines (header first), streamed in chunks so a large export holds little memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for p in partners.iterator(chunk_size=2000):
        currency = p.program.currency
        yield writer.writerow(
            [
                safe_cell(value)
                for value in (
                    p.pk,
                    p.name,
                    p.email,
                    p.company,
                    p.country,
                    p.get_status_display(),
                    p.program.name,
                    p.group.name if p.group else "",
                    currency,
                    p.click_count,  # type: ignore[attr-defined]
                    p.customer_count,  # type: ignore[attr-defined]
                    plain_amount(p.revenue_total, currency),  # type: ignore[attr-defined]
                    plain_amount(p.commissions_due, currency),  # type: ignore[attr-defined]
                    f"{p.created_at:%Y-%m-%d}",
                )
            ]
        )
