"""What the report pages show, gathered in one place: the manager dashboard, the partner detail
page and the portal read the same figures (from reporting.metrics) and draw the same charts."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache

from accounts.models import Workspace
from reporting import charts, metrics, rollups
from reporting.charts import FunnelStep, SeriesChart

log = logging.getLogger(__name__)
# A cached report also ends with the day, so "the last 30 days" moves on at midnight.
CACHE_SECONDS = 15 * 60
# Part of the cache key: bump it whenever Report or what it holds changes shape, so that a deploy
# never reads reports pickled by the previous code.
REPORT_CACHE_VERSION = 7


@dataclass
class Report:
    filters: metrics.Filters
    comparison: metrics.Comparison
    # Named directly: inside the class, `charts` is this field rather than the module.
    charts: list[SeriesChart]
    funnel: list[FunnelStep]
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
    def partner_headline(self) -> list[metrics.Change]:
        return self.kpis("clicks", "leads", "customers", "revenue", "commission_earned", "earnings_per_click")

    @property
    def secondary(self) -> list[metrics.Change]:
        return self.kpis(
            "click_to_customer_rate",
            "average_deal_size",
            "revenue_per_customer",
            "earnings_per_click",
            "median_time_to_conversion",
            "p90_time_to_conversion",
        )


def build_report(
    workspace: Workspace, filters: metrics.Filters, *, partners: bool = True, links: bool = False
) -> Report:
    """The report for `filters`, from the cache while the workspace's rollups have not changed.

    The rollups change at most once a refresh (every minute, or when an app upstream calls
    `rollups.refresh_days`), and each refresh moves the workspace's generation on, so a cached report
    is never older than the rollups it was computed from."""
    # The workspace's creation time keeps apart two databases that reuse an id (tests, a restored dump).
    scope = f"{workspace.pk}.{workspace.created_at.timestamp()}"
    digest = hashlib.sha256(repr((filters, partners, links)).encode()).hexdigest()[:24]
    key = f"report:v{REPORT_CACHE_VERSION}:{scope}:{rollups.generation(workspace.pk)}:{digest}"
    cached = _cache_get(key)
    if cached is not None:
        return cached
    report = _compute_report(workspace, filters, partners=partners, links=links)
    _cache_set(key, report)
    return report


def _cache_get(key: str) -> Report | None:
    try:
        return cache.get(key)
    except Exception:  # a report without the cache is slower, not wrong
        log.warning("report cache unavailable", exc_info=True)
        return None


def _cache_set(key: str, report: Report) -> None:
    try:
        cache.set(key, report, timeout=CACHE_SECONDS)
    except Exception:
        log.warning("report cache unavailable", exc_info=True)


def _compute_report(workspace: Workspace, filters: metrics.Filters, *, partners: bool, links: bool) -> Report:
    comparison = metrics.compare(workspace, filters)
    totals = comparison.current.totals
    points = metrics.timeseries(workspace, filters)
    return Report(
        filters=filters,
        comparison=comparison,
        charts=charts.funnel_series(points, filters.currency),
        funnel=charts.funnel_steps(
            totals.clicks, totals.leads, totals.customers, totals.click_to_lead_rate, totals.lead_to_customer_rate
        ),
        top_partners=metrics.breakdown(workspace, filters, "partner", limit=10) if partners else [],
        by_channel=metrics.breakdown(workspace, filters, "channel", order_by="clicks"),
        by_source=metrics.breakdown(workspace, filters, "source", order_by="leads"),
        by_link=metrics.breakdown(workspace, filters, "link", order_by="clicks", limit=10) if links else [],
    )


def warm_dashboard(workspace: Workspace) -> int:
    """Compute the dashboard's preset periods ahead of the first visitor, once per rollup generation.

    Called by the beat task after each refresh: on a large workspace a cold year-long report reads
    millions of rollup rows, and nobody should wait for that on page load. Returns how many it computed."""
    from django.http import QueryDict

    from reporting.filters import PRESETS, filters_from_request

    marker = f"report-warmed:{workspace.pk}.{workspace.created_at.timestamp()}"
    current = rollups.generation(workspace.pk)
    try:
        if cache.get(marker) == current:
            return 0
    except Exception:
        return 0
    computed = 0
    for value, _ in PRESETS:
        if value == "custom":
            continue
        _, filters = filters_from_request(QueryDict(f"range={value}"), workspace=workspace)
        build_report(workspace, filters)
        computed += 1
    _cache_set_marker(marker, current)
    return computed


def _cache_set_marker(key: str, value: int) -> None:
    try:
        cache.set(key, value, timeout=CACHE_SECONDS)
    except Exception:
        log.warning("report cache unavailable", exc_info=True)
