"""A range's headline figures, alone or beside the previous period's."""

from __future__ import annotations

from accounts.models import Workspace
from reporting.metrics.daily import totals
from reporting.metrics.figures import (
    Change,
    Comparison,
    Filters,
    Summary,
)
from reporting.metrics.running import active_partners
from reporting.metrics.timing import timing


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
        Change(
            "commission_cost", "Commission cost", a.commission_cost, b.commission_cost, "money", higher_is_better=False
        ),
        Change("roi", "ROI", a.roi, b.roi, "ratio"),
        # The same money seen from the partner's side, where more is better.
        Change("commission_earned", "Commissions earned", a.commission_net, b.commission_net, "money"),
        Change("click_to_lead_rate", "Click → lead", a.click_to_lead_rate, b.click_to_lead_rate, "rate"),
        Change("lead_to_customer_rate", "Lead → customer", a.lead_to_customer_rate, b.lead_to_customer_rate, "rate"),
        Change(
            "click_to_customer_rate", "Click → customer", a.click_to_customer_rate, b.click_to_customer_rate, "rate"
        ),
        Change("average_deal_size", "Average sale", a.average_deal_size, b.average_deal_size, "money"),
        Change("revenue_per_customer", "Revenue per customer", a.revenue_per_customer, b.revenue_per_customer, "money"),
        Change("earnings_per_click", "Earnings per click", a.earnings_per_click, b.earnings_per_click, "money"),
        Change(
            "median_time_to_conversion",
            "Median time to sale",
            now.timing.median_seconds,
            before.timing.median_seconds,
            "duration",
            higher_is_better=False,
        ),
        Change(
            "p90_time_to_conversion",
            "90th pct. time to sale",
            now.timing.p90_seconds,
            before.timing.p90_seconds,
            "duration",
            higher_is_better=False,
        ),
        Change("active_partners", "Active partners", now.active_partners, before.active_partners, "count"),
    ]
    return Comparison(current=now, previous=before, changes=changes)
