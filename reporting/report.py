"""What the report pages show, gathered in one place: the manager dashboard, the partner detail
page and the portal read the same figures (from reporting.metrics) and draw the same charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounts.models import Workspace
from reporting import charts, metrics


@dataclass
class Report:
    filters: metrics.Filters
    comparison: metrics.Comparison
    charts: list[charts.SeriesChart]
    funnel: list[charts.FunnelStep]
    top_partners: list[metrics.BreakdownRow]
    by_channel: list[metrics.BreakdownRow]
    by_source: list[metrics.BreakdownRow]
    by_link: list[metrics.BreakdownRow]

    @property
    def totals(self) -> metrics.Totals:
        return self.comparison.current.totals

    @property
    def has_data(self) -> bool:
        return self.totals.has_data or self.comparison.previous.totals.has_data

    def kpis(self, *keys: str) -> list[metrics.Change]:
        return [self.comparison.change(key) for key in keys]

    @property
    def headline(self) -> list[metrics.Change]:
        return self.kpis("clicks", "leads", "customers", "revenue", "commission_cost", "roi")

    @property
    def secondary(self) -> list[metrics.Change]:
        return self.kpis("click_to_customer_rate", "average_deal_size", "revenue_per_customer", "earnings_per_click",
                         "median_time_to_conversion", "p90_time_to_conversion")


def build_report(workspace: Workspace, filters: metrics.Filters, *, partners: bool = True, links: bool = False) -> Report:
    comparison = metrics.compare(workspace, filters)
    totals = comparison.current.totals
    points = metrics.timeseries(workspace, filters)
    return Report(
        filters=filters,
        comparison=comparison,
        charts=charts.funnel_series(points, filters.currency),
        funnel=charts.funnel_steps(totals.clicks, totals.leads, totals.customers, totals.click_to_lead_rate,
                                   totals.lead_to_customer_rate),
        top_partners=metrics.breakdown(workspace, filters, "partner", limit=10) if partners else [],
        by_channel=metrics.breakdown(workspace, filters, "channel", order_by="clicks"),
        by_source=metrics.breakdown(workspace, filters, "source", order_by="leads"),
        by_link=metrics.breakdown(workspace, filters, "link", order_by="clicks", limit=10) if links else [],
    )


def share_of(rows: list[metrics.BreakdownRow], measure: str) -> list[dict[str, Any]]:
    """Each row with its share of the largest, for the small bars beside the numbers."""
    peak = max((getattr(row.totals, measure) for row in rows), default=0) or 1
    return [{"row": row, "share": float(100 * getattr(row.totals, measure) / peak)} for row in rows]
