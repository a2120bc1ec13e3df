"""Every metric of Tandem's reports, defined once.

The manager dashboard, the partner detail page, the portal, the CSV exports and
`GET /api/v1/partners/{id}/stats` all read their figures through this module, from the daily
rollups (reporting/rollup_models.py), so the same question gets the same number everywhere.

Definitions, for a date range of UTC days [start, end]:
- clicks: human clicks (`is_bot` false); bot clicks are kept but never counted here.
- unique clicks: human clicks flagged as the visitor's first on that link in 24 hours.
- leads: referrals created in the range.
- customers: referrals whose first sale happened in the range.
- sales / revenue: sale conversions in the range; revenue is their amount less the refunds in the range.
- click → lead rate: of the human clicks in the range, the share that won a lead (whenever it came).
- lead → customer rate: of the leads in the range, the share that have bought since.
- click → customer rate: of the human clicks in the range, the share whose lead has bought since.
  These three are cohort rates, so each stays between 0 and 1.
- average deal size: sale amount per sale; revenue per customer: revenue / customers.
- time to conversion: first touch (the winning click, else the deal registration, else the lead)
  to first sale, for the customers of the range: median and 90th percentile, in seconds.
- commissions by their current status, by the day of the sale or lead they reward: pending,
  approved and paid net of partial reversals; rejected at their full amount; reversed = the
  amounts taken back; net = all earned less reversals and rejections (= commission cost).
- ROI: revenue / commission cost. Earnings per click: commission cost / clicks.
- active partners: partners with a click, a lead or a sale in the range.
Money is per currency: a report covers one currency (the program's, or the one chosen).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from accounts.models import Workspace
from partners.models import Partner, PartnerGroup, Program
from reporting.rollups.models import (
    CustomerTiming,
    DailyRollup,
    DailySummary,
    MonthlyPartnerRollup,
    PartnerRunningTotal,
    RunningGrain,
    TimingRunningCount,
)

ZERO = Decimal("0")
COUNT_MEASURES = (
    "clicks", "unique_clicks", "bot_clicks", "clicked_leads", "clicked_customers", "leads", "converted_leads",
    "customers", "sales", "refunds",
)
MONEY_MEASURES = (
    "sales_amount", "refunds_amount", "commission_pending", "commission_approved", "commission_paid",
    "commission_rejected", "commission_reversed", "commission_net",
)
MEASURES = COUNT_MEASURES + MONEY_MEASURES

Dimension = Literal["partner", "group", "program", "channel", "campaign", "link", "code", "source"]
# Dimensions only the finest rollup knows.
_FINE_DIMENSIONS = {"partner", "group", "link", "code", "campaign"}


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


# --- Reading the rollups ----------------------------------------------------------------


def _narrowed(rows: QuerySet, filters: Filters) -> QuerySet:
    """Rollup-shaped rows (program, partner, channel columns) narrowed to the filter's slice."""
    if filters.program_id is not None:
        rows = rows.filter(program_id=filters.program_id)
    if filters.partner_id is not None:
        rows = rows.filter(partner_id=filters.partner_id)
    if filters.group_id is not None:
        rows = rows.filter(partner__group_id=filters.group_id)
    if filters.channel is not None:
        rows = rows.filter(channel=filters.channel)
    return rows


def _rows(workspace: Workspace, filters: Filters, *, fine: bool = False) -> QuerySet:
    """The rollup rows a report reads: the small summary unless the filter or the breakdown needs partners."""
    model = DailyRollup if (fine or filters.needs_partner_grain) else DailySummary
    rows = model.objects.for_workspace(workspace).filter(
        day__gte=filters.start, day__lte=filters.end, currency=filters.currency
    )
    return _narrowed(rows, filters)


def _sums() -> dict[str, Any]:
    return {m: Sum(m) for m in MEASURES}


def totals(workspace: Workspace, filters: Filters) -> Totals:
    return Totals.from_row(_rows(workspace, filters).aggregate(**_sums()), filters.currency)


def timing(workspace: Workspace, filters: Filters) -> Timing:
    """Median and 90th percentile time to first sale of the range's new customers (exact, not bucketed).

    Without a partner or group filter the range's histogram comes from the running counts, and
    each percentile is then read from the customers of the one bucket it falls in."""
    if filters.needs_partner_grain:
        return _timing_from_customers(workspace, filters)
    histogram = _timing_histogram(workspace, filters)
    count = sum(histogram.values())
    if not count:
        return Timing(customers=0, median_seconds=None, p90_seconds=None)
    median, p90 = (_nth_seconds(workspace, filters, histogram, _percentile_rank(q, count)) for q in (0.5, 0.9))
    return Timing(customers=count, median_seconds=median, p90_seconds=p90)


def _percentile_rank(fraction: float, count: int) -> int:
    # PostgreSQL's percentile_disc: the first value whose cumulative share reaches the fraction,
    # computed in floating point like it does.
    return max(1, math.ceil(fraction * count))


def _timing_rows(workspace: Workspace, filters: Filters) -> QuerySet:
    rows = CustomerTiming.objects.for_workspace(workspace).filter(day__gte=filters.start, day__lte=filters.end)
    rows = rows.filter(currency=filters.currency)
    return _narrowed(rows, filters)


def _timing_from_customers(workspace: Workspace, filters: Filters) -> Timing:
    """The percentiles straight from the customers' rows: few enough once a partner or group is chosen."""
    sql, params = _timing_rows(workspace, filters).values("seconds").query.sql_with_params()
    with connection.cursor() as cursor:
        # percentile_disc: an actual customer's time, the same figure a recount of the raw rows gives.
        cursor.execute(
            f"SELECT count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds), "
            f"percentile_disc(0.9) WITHIN GROUP (ORDER BY seconds) FROM ({sql}) t",
            params,
        )
        count, median, p90 = cursor.fetchone()
    return Timing(customers=count, median_seconds=median, p90_seconds=p90)


def _timing_histogram(workspace: Workspace, filters: Filters) -> dict[int, int]:
    """Customers of the range per time-to-conversion bucket, from the running counts."""
    where, params, _ = _running_filters(filters)
    sql, lookup_params = _running_sql(TimingRunningCount._meta.db_table, workspace, filters, ["t.bucket"],
                                      ["sum(t.customers * w.k) AS customers"], where)
    with connection.cursor() as cursor:
        cursor.execute(sql + " HAVING sum(t.customers * w.k) <> 0", lookup_params + params)
        return {bucket: customers for bucket, customers in cursor.fetchall()}


def _nth_seconds(workspace: Workspace, filters: Filters, histogram: dict[int, int], rank: int) -> int | None:
    """The `rank`-th smallest time (1-based) of the range: found in its bucket, then read from the
    customers of that bucket only."""
    before = 0
    for bucket in sorted(histogram):
        if before + histogram[bucket] >= rank:
            rows = _timing_rows(workspace, filters).filter(bucket=bucket).order_by("seconds")
            offset = rank - before - 1
            return rows.values_list("seconds", flat=True)[offset:offset + 1].first()
        before += histogram[bucket]
    return None


# --- Running totals -------------------------------------------------------------------------


def _prefix_lookups(day: dt.date, sign: int) -> list[tuple[str, dt.date, dt.date, int]]:
    """The running rows whose sum is everything from the start of `day`'s year through `day`:
    (grain, first date of the period, the date wanted, sign)."""
    month = day.replace(day=1)
    lookups = [(RunningGrain.MONTH_TO_DATE.value, month, day, sign)]
    if day.month > 1:
        previous = (month - dt.timedelta(days=1)).replace(day=1)
        lookups.append((RunningGrain.YEAR_TO_DATE.value, day.replace(month=1, day=1), previous, sign))
    return lookups


def _range_lookups(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date, int]]:
    """[start, end] as running rows with signs: through `end`, less through the day before `start`,
    plus the whole years between the two."""
    before = start - dt.timedelta(days=1)
    lookups = _prefix_lookups(end, 1) + _prefix_lookups(before, -1)
    for year in range(before.year, end.year):
        lookups.append((RunningGrain.YEAR_TO_DATE.value, dt.date(year, 1, 1), dt.date(year, 12, 1), 1))
    return lookups


def _running_filters(filters: Filters) -> tuple[list[str], list[Any], str]:
    """The WHERE terms, their parameters and the join a running-total table (alias t) needs for
    `filters`: a group is the partner's current one, as everywhere else in the reports."""
    where: list[str] = ["t.currency = %s"]
    params: list[Any] = [filters.currency]
    join = ""
    for column, value in (("program_id", filters.program_id), ("partner_id", filters.partner_id),
                          ("channel", filters.channel)):
        if value is not None:
            where.append(f"t.{column} = %s")
            params.append(value)
    if filters.group_id is not None:
        join = "JOIN partners_partner p ON p.id = t.partner_id"
        where.append("p.group_id = %s")
        params.append(filters.group_id)
    return where, params, join


def _running_sql(table: str, workspace: Workspace, filters: Filters, group_by: list[str], sums: list[str],
                 where: list[str], *, join: str = "") -> tuple[str, list[Any]]:
    """SELECT … GROUP BY over a running-total table, each row weighted by its lookup's sign (w.k).

    A lookup reads the last date stored at or before the one wanted within its period: the rows
    are dense up to there, and nothing happened after it."""
    values, params = [], []
    for grain, first, wanted, sign in _range_lookups(filters.start, filters.end):
        values.append(f"(%s, (SELECT max(date) FROM {table} WHERE workspace_id = %s AND grain = %s "
                      "AND date >= %s AND date <= %s), %s)")
        params += [grain, workspace.pk, grain, first, wanted, sign]
    columns = ", ".join(group_by)
    sql = (f"SELECT {columns}, {', '.join(sums)} FROM {table} t {join} "
           f"JOIN (VALUES {', '.join(values)}) AS w(grain, date, k) ON t.grain = w.grain AND t.date = w.date "
           f"WHERE t.workspace_id = %s AND {' AND '.join(where)} GROUP BY {columns}")
    return sql, params + [workspace.pk]


def _partner_running_sql(workspace: Workspace, filters: Filters, sums: list[str], *, having: str,
                         order_by: str | None = None, limit: int | None = None, partner_ids: list[int] | None = None
                         ) -> tuple[str, list[Any]]:
    """Per-partner sums of the range from the running totals. Each of `sums` is a measure's name
    (summed with its lookup's sign) or a ready SQL select item."""
    where, params, join = _running_filters(filters)
    if partner_ids is not None:
        where.append("t.partner_id = ANY(%s)")
        params.append(partner_ids)
    selected = [f"sum(t.{m} * w.k) AS {m}" if m in MEASURES else m for m in sums]
    sql, lookup_params = _running_sql(PartnerRunningTotal._meta.db_table, workspace, filters, ["t.partner_id"],
                                      selected, where, join=join)
    sql += f" HAVING {having}"
    if order_by:
        sql += f" ORDER BY {order_by} DESC, t.partner_id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, lookup_params + params


def _partner_running(workspace: Workspace, filters: Filters, sums: list[str], *, having: str,
                     order_by: str | None = None, limit: int | None = None, partner_ids: list[int] | None = None
                     ) -> list[dict[str, Any]]:
    sql, params = _partner_running_sql(workspace, filters, sums, having=having, order_by=order_by, limit=limit,
                                       partner_ids=partner_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _signed(measure: str) -> str:
    return f"sum(t.{measure} * w.k)"


def _ranked_partners(workspace: Workspace, filters: Filters, *, order_by: str, limit: int | None
                     ) -> list[dict[str, Any]]:
    """Every measure of the range per partner with any figure, best `order_by` first."""
    if order_by not in MEASURES:
        raise ValueError(order_by)
    any_figure = " OR ".join(f"{_signed(m)} <> 0" for m in MEASURES)
    if limit:
        # Rank on the one measure first (every measure is a count or an amount, never negative),
        # then add up everything for the winners only: a fraction of the sums.
        top = _partner_running(workspace, filters, [order_by], having=f"{_signed(order_by)} > 0", order_by=order_by,
                               limit=limit)
        if len(top) == limit:
            full = {row["partner_id"]: row for row in _partner_running(
                workspace, filters, list(MEASURES), having=any_figure, partner_ids=[r["partner_id"] for r in top])}
            return [full[row["partner_id"]] for row in top]
    return _partner_running(workspace, filters, list(MEASURES), having=any_figure, order_by=order_by, limit=limit)


def active_partners(workspace: Workspace, filters: Filters) -> int:
    if filters.channel is None:
        active = " OR ".join(f"{_signed(m)} > 0" for m in ("clicks", "leads", "sales"))
        sql, params = _partner_running_sql(workspace, filters, ["1 AS active"], having=active)
        with connection.cursor() as cursor:  # counted in the database: thousands of partners
            cursor.execute(f"SELECT count(*) FROM ({sql}) active", params)
            return int(cursor.fetchone()[0])
    # One index probe per partner (workspace, partner, day) rather than a DISTINCT over a year of
    # rows: a workspace has thousands of partners but millions of partner-days.
    activity = (
        _rows(workspace, filters, fine=True)
        .filter(partner_id=OuterRef("pk"))
        .filter(Q(clicks__gt=0) | Q(leads__gt=0) | Q(sales__gt=0))
    )
    partners = Partner.objects.for_workspace(workspace)
    if filters.partner_id is not None:
        partners = partners.filter(pk=filters.partner_id)
    if filters.group_id is not None:
        partners = partners.filter(group_id=filters.group_id)
    if filters.program_id is not None:
        partners = partners.filter(program_id=filters.program_id)
    return partners.filter(Exists(activity)).count()


def summary(workspace: Workspace, filters: Filters) -> Summary:
    return Summary(
        filters=filters,
        totals=totals(workspace, filters),
        timing=timing(workspace, filters),
        active_partners=active_partners(workspace, filters),
    )


def compare(workspace: Workspace, filters: Filters) -> Comparison:
    """The range's figures with the previous period of equal length beside each."""
    now, before = summary(workspace, filters), summary(workspace, filters.previous())
    a, b = now.totals, before.totals
    changes = [
        Change("clicks", "Clicks", a.clicks, b.clicks, "count"),
        Change("leads", "Leads", a.leads, b.leads, "count"),
        Change("customers", "Customers", a.customers, b.customers, "count"),
        Change("revenue", "Revenue", a.revenue, b.revenue, "money"),
        Change("commission_cost", "Commission cost", a.commission_cost, b.commission_cost, "money", higher_is_better=False),
        Change("roi", "ROI", a.roi, b.roi, "ratio"),
        # The same money seen from the partner's side, where more is better.
        Change("commission_earned", "Commissions earned", a.commission_net, b.commission_net, "money"),
        Change("click_to_lead_rate", "Click → lead", a.click_to_lead_rate, b.click_to_lead_rate, "rate"),
        Change("lead_to_customer_rate", "Lead → customer", a.lead_to_customer_rate, b.lead_to_customer_rate, "rate"),
        Change("click_to_customer_rate", "Click → customer", a.click_to_customer_rate, b.click_to_customer_rate, "rate"),
        Change("average_deal_size", "Average sale", a.average_deal_size, b.average_deal_size, "money"),
        Change("revenue_per_customer", "Revenue per customer", a.revenue_per_customer, b.revenue_per_customer, "money"),
        Change("earnings_per_click", "Earnings per click", a.earnings_per_click, b.earnings_per_click, "money"),
        Change("median_time_to_conversion", "Median time to sale", now.timing.median_seconds,
               before.timing.median_seconds, "duration", higher_is_better=False),
        Change("p90_time_to_conversion", "90th pct. time to sale", now.timing.p90_seconds,
               before.timing.p90_seconds, "duration", higher_is_better=False),
        Change("active_partners", "Active partners", now.active_partners, before.active_partners, "count"),
    ]
    return Comparison(current=now, previous=before, changes=changes)


@dataclass
class DayPoint:
    day: dt.date
    clicks: int
    leads: int
    customers: int
    revenue: Decimal


def timeseries(workspace: Workspace, filters: Filters) -> list[DayPoint]:
    """One point per day of the range, zeros included, so the chart's x axis is true time."""
    rows = (
        _rows(workspace, filters).values("day")
        .annotate(clicks=Sum("clicks"), leads=Sum("leads"), customers=Sum("customers"),
                  sales_amount=Sum("sales_amount"), refunds_amount=Sum("refunds_amount"))
    )
    by_day = {row["day"]: row for row in rows}
    points = []
    for offset in range(filters.days):
        day = filters.start + dt.timedelta(days=offset)
        row = by_day.get(day)
        if row is None:
            points.append(DayPoint(day, 0, 0, 0, ZERO))
        else:
            points.append(DayPoint(day, row["clicks"], row["leads"], row["customers"],
                                   Decimal(row["sales_amount"]) - Decimal(row["refunds_amount"])))
    return points


@dataclass
class BreakdownRow:
    key: Any
    label: str
    totals: Totals


_DIMENSION_FIELDS: dict[str, tuple[str, ...]] = {
    "partner": ("partner_id", "partner__name"),
    "group": ("partner__group_id", "partner__group__name"),
    "program": ("program_id", "program__name"),
    "channel": ("channel",),
    "campaign": ("campaign",),
    "link": ("link_id", "link__code"),
    "code": ("code_id", "code__code"),
    "source": ("source",),
}
_SOURCE_LABELS = {"link": "Link", "code": "Referral code", "deal_registration": "Deal registration", "manual": "Added by a manager"}


def _full_months(filters: Filters) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the whole calendar months inside the range, if there are any."""
    first = filters.start if filters.start.day == 1 else (filters.start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    after_end = filters.end + dt.timedelta(days=1)
    last = after_end - dt.timedelta(days=1) if after_end.day == 1 else after_end.replace(day=1) - dt.timedelta(days=1)
    return (first, last) if first <= last else None


def _by_partner_from_months(workspace: Workspace, filters: Filters, months: tuple[dt.date, dt.date]
                            ) -> dict[int, dict[str, Any]]:
    """Per-partner sums of a range: its whole months from the monthly rollup, the days around them
    from the daily one. The same numbers as summing the daily rows, from a fraction of the rows."""
    first, last = months
    monthly: QuerySet[MonthlyPartnerRollup] = MonthlyPartnerRollup.objects.for_workspace(workspace).filter(
        month__gte=first, month__lte=last, currency=filters.currency)
    monthly = _narrowed(monthly, filters)
    parts: list[QuerySet[Any, Any]] = [monthly.values("partner_id").annotate(**_sums())]
    for start, end in ((filters.start, first - dt.timedelta(days=1)), (last + dt.timedelta(days=1), filters.end)):
        if start <= end:
            edge = replace(filters, start=start, end=end)
            parts.append(_rows(workspace, edge, fine=True).values("partner_id").annotate(**_sums()))
    sums: dict[int, dict[str, Any]] = {}
    for part in parts:
        for row in part:
            into = sums.setdefault(row["partner_id"], {m: 0 for m in MEASURES})
            for m in MEASURES:
                into[m] += row[m] or 0
    return sums


def _partner_breakdown(workspace: Workspace, filters: Filters, *, order_by: str, limit: int | None
                       ) -> list[BreakdownRow] | None:
    """Per-partner rows from the partner-grain rollups: the running totals for all channels, else the
    channel's whole months and the days around them. None when the range has no whole month."""
    if filters.channel is None:
        ranked = [(row["partner_id"], row) for row in _ranked_partners(workspace, filters, order_by=order_by, limit=limit)]
    else:
        months = _full_months(filters)
        if months is None:
            return None
        sums = _by_partner_from_months(workspace, filters, months)
        ranked = sorted(sums.items(), key=lambda item: (-item[1][order_by], item[0]))
    if limit:
        ranked = ranked[:limit]
    names = dict(Partner.objects.for_workspace(workspace).filter(pk__in=[k for k, _ in ranked]).values_list("pk", "name"))
    return [BreakdownRow(key=k, label=names.get(k, str(k)), totals=Totals.from_row(row, filters.currency))
            for k, row in ranked]


def breakdown(
    workspace: Workspace, filters: Filters, by: Dimension, *, order_by: str = "sales_amount", limit: int | None = None
) -> list[BreakdownRow]:
    """The range's measures per partner, group, program, channel, campaign, link, code or source type."""
    if by == "partner":
        partner_rows = _partner_breakdown(workspace, filters, order_by=order_by, limit=limit)
        if partner_rows is not None:
            return partner_rows
    fields = _DIMENSION_FIELDS[by]
    rows = _rows(workspace, filters, fine=by in _FINE_DIMENSIONS)
    if by == "link":
        rows = rows.filter(link_id__isnull=False)
    if by == "code":
        rows = rows.filter(code_id__isnull=False)
    rows = rows.values(*fields).annotate(**_sums()).order_by(F(order_by).desc(nulls_last=True), *fields)
    if limit:
        rows = rows[:limit]
    result = []
    for row in rows:
        key = row[fields[0]]
        if by == "source":
            label = _SOURCE_LABELS.get(key, key)
        elif by == "channel":
            label = key or "No channel"
        elif by == "campaign":
            label = key or "No campaign"
        elif by == "group" and key is None:
            label = "No group"
        else:
            label = row[fields[-1]] if len(fields) > 1 else str(key)
        result.append(BreakdownRow(key=key, label=label, totals=Totals.from_row(row, filters.currency)))
    return result


# --- What a report can be filtered by ------------------------------------------------------


def currencies(workspace: Workspace) -> list[str]:
    return sorted(set(Program.objects.for_workspace(workspace).values_list("currency", flat=True)))


def default_currency(workspace: Workspace, program_id: int | None = None) -> str:
    """The program's currency when one is chosen, else the currency most of the workspace's partners earn in."""
    programs = Program.objects.for_workspace(workspace)
    if program_id is not None:
        program = programs.filter(pk=program_id).first()
        if program is not None:
            return program.currency
    top = (
        Partner.objects.for_workspace(workspace).values("program__currency").annotate(n=Count("id"))
        .order_by("-n", "program__currency").first()
    )
    if top:
        return top["program__currency"]
    first = programs.order_by("id").first()
    return first.currency if first else "USD"


def channels(workspace: Workspace) -> list[str]:
    """Every channel label a link or code of the workspace carries (blank ones excepted)."""
    from referrals.models import Link, ReferralCode

    # DISTINCT in the database: a workspace has thousands of links but a handful of channels.
    links = Link.objects.for_workspace(workspace).exclude(channel="").order_by().values_list("channel", flat=True)
    codes = ReferralCode.objects.for_workspace(workspace).exclude(channel="").order_by().values_list("channel", flat=True)
    names = set(links.distinct()) | set(codes.distinct())
    return sorted(names, key=str.lower)


def groups(workspace: Workspace) -> QuerySet[PartnerGroup]:
    return PartnerGroup.objects.for_workspace(workspace).order_by("name")


def programs(workspace: Workspace) -> QuerySet[Program]:
    return Program.objects.for_workspace(workspace).order_by("name")


def partner_count(workspace: Workspace) -> int:
    return Partner.objects.for_workspace(workspace).count()


__all__ = [
    "Filters", "Totals", "Timing", "Summary", "Change", "Comparison", "DayPoint", "BreakdownRow",
    "totals", "timing", "active_partners", "summary", "compare", "timeseries", "breakdown",
    "currencies", "default_currency", "channels", "groups", "programs", "partner_count", "expected_payout",
]


@dataclass
class ExpectedPayout:
    amount: Decimal
    currency: str
    period_end: dt.date


def expected_payout(partner: Partner, *, today: dt.date) -> ExpectedPayout:
    """What the partner should be paid at the next period close: approved commissions not yet paid,
    net of reversals (current state, whatever the range), and the last day of that period."""
    from attribution.models import Commission
    from reporting.payouts.statements import month_end

    amount = (
        Commission.objects.for_workspace(partner.workspace)
        .filter(partner=partner, status=Commission.Status.APPROVED)
        .aggregate(total=Sum(F("amount") - F("reversed_amount")))["total"]
    )
    return ExpectedPayout(amount=amount or ZERO, currency=partner.program.currency, period_end=month_end(today))
