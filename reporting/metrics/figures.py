"""The figures a report is made of: its filters, totals, timing and comparisons, and the measures they add up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

ZERO = Decimal("0")
COUNT_MEASURES = (
    "clicks",
    "unique_clicks",
    "bot_clicks",
    "clicked_leads",
    "clicked_customers",
    "leads",
    "converted_leads",
    "customers",
    "sales",
    "refunds",
)
MONEY_MEASURES = (
    "sales_amount",
    "refunds_amount",
    "commission_pending",
    "commission_approved",
    "commission_paid",
    "commission_rejected",
    "commission_reversed",
    "commission_net",
)
MEASURES = COUNT_MEASURES + MONEY_MEASURES

Dimension = Literal["partner", "group", "program", "channel", "campaign", "link", "code", "source"]
# Dimensions only the finest rollup knows.
FINE_DIMENSIONS = {"partner", "group", "link", "code", "campaign"}


@dataclass(frozen=True)
class Filters:
    """What a report covers. `currency` is required: money of different currencies never adds up."""

    start: dt.date
    end: dt.date
    currency: str
    program_id: int | None = None
    group_id: int | None = None
    partner_id: int | None = None
    channel: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of equal length that ends the day before this one starts."""
        end = self.start - dt.timedelta(days=1)
        return replace(self, start=end - dt.timedelta(days=self.days - 1), end=end)

    @property
    def needs_partner_grain(self) -> bool:
        return self.partner_id is not None or self.group_id is not None


def _delta_ratio(numerator: Any, denominator: Any) -> Decimal | None:
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


@dataclass
class Totals:
    """The additive measures of a range, and every figure derived from them."""

    clicks: int = 0
    unique_clicks: int = 0
    bot_clicks: int = 0
    clicked_leads: int = 0
    clicked_customers: int = 0
    leads: int = 0
    converted_leads: int = 0
    customers: int = 0
    sales: int = 0
    refunds: int = 0
    sales_amount: Decimal = ZERO
    refunds_amount: Decimal = ZERO
    commission_pending: Decimal = ZERO
    commission_approved: Decimal = ZERO
    commission_paid: Decimal = ZERO
    commission_rejected: Decimal = ZERO
    commission_reversed: Decimal = ZERO
    commission_net: Decimal = ZERO
    currency: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any], currency: str) -> Totals:
        values: dict[str, Any] = {m: (row.get(m) or 0) for m in COUNT_MEASURES}
        values.update({m: Decimal(row.get(m) or 0) for m in MONEY_MEASURES})
        return cls(currency=currency, **values)

    @property
    def revenue(self) -> Decimal:
        return self.sales_amount - self.refunds_amount

    @property
    def commission_cost(self) -> Decimal:
        return self.commission_net

    @property
    def click_to_lead_rate(self) -> Decimal | None:
        return _delta_ratio(self.clicked_leads, self.clicks)

    @property
    def lead_to_customer_rate(self) -> Decimal | None:
        return _delta_ratio(self.converted_leads, self.leads)

    @property
    def click_to_customer_rate(self) -> Decimal | None:
        return _delta_ratio(self.clicked_customers, self.clicks)

    @property
    def average_deal_size(self) -> Decimal | None:
        return _delta_ratio(self.sales_amount, self.sales)

    @property
    def revenue_per_customer(self) -> Decimal | None:
        return _delta_ratio(self.revenue, self.customers)

    @property
    def roi(self) -> Decimal | None:
        return _delta_ratio(self.revenue, self.commission_cost)

    @property
    def earnings_per_click(self) -> Decimal | None:
        return _delta_ratio(self.commission_cost, self.clicks)

    @property
    def has_data(self) -> bool:
        return any(getattr(self, m) for m in MEASURES)


@dataclass
class Timing:
    customers: int
    median_seconds: int | None
    p90_seconds: int | None


@dataclass
class Summary:
    filters: Filters
    totals: Totals
    timing: Timing
    active_partners: int


@dataclass
class Change:
    """A figure beside its value in the previous period of equal length."""

    key: str
    label: str
    current: Any
    previous: Any
    kind: Literal["count", "money", "rate", "ratio", "duration"]
    # Whether a rise is good news (a rise of commission cost is not).
    higher_is_better: bool = True

    @property
    def change(self) -> Decimal | None:
        if self.current is None or self.previous in (None, 0):
            return None
        return (Decimal(self.current) - Decimal(self.previous)) / abs(Decimal(self.previous))

    @property
    def direction(self) -> str:
        change = self.change
        if change is None or change == 0:
            return ""
        return "up" if change > 0 else "down"

    @property
    def tone(self) -> str:
        if not self.direction:
            return ""
        good = (self.direction == "up") == self.higher_is_better
        return "good" if good else "bad"


@dataclass
class Comparison:
    current: Summary
    previous: Summary
    changes: list[Change] = field(default_factory=list)

    def change(self, key: str) -> Change:
        return next(change for change in self.changes if change.key == key)


@dataclass
class DayPoint:
    day: dt.date
    clicks: int
    leads: int
    customers: int
    revenue: Decimal


@dataclass
class BreakdownRow:
    key: Any
    label: str
    totals: Totals
