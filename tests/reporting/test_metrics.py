"""Every metric the pages show equals a recomputation from the raw rows, for random filters."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from reporting import metrics, rollups
from tests.reporting.metrics_data import TODAY, make_funnel, recompute
from tests.reporting.test_rollups import random_filters

pytestmark = pytest.mark.django_db


@pytest.fixture
def funnel(workspace):
    make_funnel(workspace, seed=21, clicks=500)
    rollups.rebuild(workspace_id=workspace.pk, start=TODAY - dt.timedelta(days=160), end=TODAY + dt.timedelta(days=40))
    return workspace


def _ratio(a, b):
    return Decimal(a) / Decimal(b) if b else None


def test_every_metric_of_the_summary_equals_a_recount_for_random_filters(funnel):
    rng = random.Random(4)
    for _ in range(15):
        f = random_filters(funnel, rng)
        raw = recompute(funnel, f)
        s = metrics.summary(funnel, f)
        t = s.totals
        assert t.clicks == raw.get("clicks", 0)
        assert t.revenue == raw["sales_amount"] - raw["refunds_amount"]
        assert t.commission_cost == raw["commission_net"]
        assert t.click_to_lead_rate == _ratio(raw.get("clicked_leads", 0), raw.get("clicks", 0))
        assert t.lead_to_customer_rate == _ratio(raw.get("converted_leads", 0), raw.get("leads", 0))
        assert t.click_to_customer_rate == _ratio(raw.get("clicked_customers", 0), raw.get("clicks", 0))
        assert t.average_deal_size == _ratio(raw["sales_amount"], raw.get("sales", 0))
        assert t.revenue_per_customer == _ratio(raw["sales_amount"] - raw["refunds_amount"], raw.get("customers", 0))
        assert t.roi == _ratio(raw["sales_amount"] - raw["refunds_amount"], raw["commission_net"])
        assert t.earnings_per_click == _ratio(raw["commission_net"], raw.get("clicks", 0))
        assert s.timing.customers == raw["timing_count"]
        assert s.timing.median_seconds == raw["median_seconds"]
        assert s.timing.p90_seconds == raw["p90_seconds"]
        assert s.active_partners == raw["active_partners"]


def test_breakdowns_and_the_time_series_equal_a_recount(funnel):
    rng = random.Random(8)
    for _ in range(8):
        f = random_filters(funnel, rng)
        raw = recompute(funnel, f)
        by_partner = {
            r.key: r.totals.sales_amount for r in metrics.breakdown(funnel, f, "partner") if r.totals.sales_amount
        }
        assert by_partner == raw["by_partner_sales"]
        by_channel = {r.key: r.totals.clicks for r in metrics.breakdown(funnel, f, "channel") if r.totals.clicks}
        assert by_channel == raw["by_channel_clicks"]
        by_source = {r.key: r.totals.leads for r in metrics.breakdown(funnel, f, "source") if r.totals.leads}
        assert by_source == raw["by_source_leads"]
        series = {p.day: p.clicks for p in metrics.timeseries(funnel, f) if p.clicks}
        assert series == raw["series_clicks"]
        assert len(metrics.timeseries(funnel, f)) == f.days


def test_the_previous_period_has_the_same_length_and_ends_the_day_before(funnel):
    f = metrics.Filters(start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30), currency="USD")
    previous = f.previous()
    assert (previous.start, previous.end) == (dt.date(2026, 5, 2), dt.date(2026, 5, 31))
    comparison = metrics.compare(funnel, f)
    assert comparison.change("clicks").previous == recompute(funnel, previous).get("clicks", 0)


def test_bot_clicks_are_kept_but_not_counted(funnel):
    f = metrics.Filters(start=TODAY - dt.timedelta(days=120), end=TODAY, currency="USD")
    t = metrics.totals(funnel, f)
    assert t.bot_clicks > 0
    assert t.clicks == recompute(funnel, f)["clicks"]


def test_rates_stay_between_zero_and_one(funnel):
    rng = random.Random(2)
    for _ in range(10):
        t = metrics.totals(funnel, random_filters(funnel, rng))
        for rate in (t.click_to_lead_rate, t.lead_to_customer_rate, t.click_to_customer_rate):
            assert rate is None or 0 <= rate <= 1


@pytest.mark.parametrize(
    "start, end",
    [
        (dt.date(2026, 5, 1), dt.date(2026, 6, 30)),  # whole months only
        (dt.date(2026, 5, 10), dt.date(2026, 6, 30)),  # a whole month and days before it
        (dt.date(2026, 4, 20), dt.date(2026, 6, 3)),  # days on both sides
    ],
)
def test_top_partners_read_from_monthly_rollups_equal_the_daily_sums(funnel, start, end):
    from django.db.models import Sum

    from reporting.rollups.models import DailyRollup

    f = metrics.Filters(start=start, end=end, currency="USD")
    rows = metrics.breakdown(funnel, f, "partner")
    daily = {
        r["partner_id"]: r
        for r in DailyRollup.objects.filter(workspace=funnel, day__gte=start, day__lte=end, currency="USD")
        .values("partner_id")
        .annotate(clicks=Sum("clicks"), leads=Sum("leads"), net=Sum("commission_net"))
    }
    assert {r.key for r in rows} == set(daily)
    for r in rows:
        assert (r.totals.clicks, r.totals.leads, r.totals.commission_net) == (
            daily[r.key]["clicks"],
            daily[r.key]["leads"],
            daily[r.key]["net"],
        )
    raw = recompute(funnel, f)
    assert {r.key: r.totals.sales_amount for r in rows if r.totals.sales_amount} == raw["by_partner_sales"]
    sales = [r.totals.sales_amount for r in rows]
    assert sales == sorted(sales, reverse=True)
