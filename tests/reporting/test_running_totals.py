"""The running totals behind the dashboard's partner and time-to-conversion figures stay equal to a
recount of the raw rows: across month and year boundaries, after a late refresh of one old day,
after rows are erased, and equal to what a rebuild from scratch writes."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

import pytest

from attribution.models import Commission, Conversion
from partners.models import Partner, PartnerGroup, Program
from referrals.models import Click, Referral
from reporting import metrics, rollups
from reporting.rollups.models import PartnerRunningTotal, TimingRunningCount
from tests.reporting.metrics_data import make_funnel, recompute

pytestmark = pytest.mark.django_db

# Data over the turn of a year, so ranges cross month and year boundaries.
END = dt.date(2026, 2, 10)
FIRST = END - dt.timedelta(days=99)
RUNNING_FIELDS = {
    PartnerRunningTotal: ("grain", "date", "program_id", "partner_id", "currency", *metrics.MEASURES),
    TimingRunningCount: ("grain", "date", "program_id", "channel", "currency", "bucket", "customers"),
}


def _rebuild(workspace) -> None:
    rollups.rebuild(workspace_id=workspace.pk, start=FIRST - dt.timedelta(days=5), end=END + dt.timedelta(days=40))


@pytest.fixture
def funnel(workspace):
    make_funnel(workspace, seed=31, clicks=500, days=100, end=END)
    _rebuild(workspace)
    return workspace


def _filters(workspace, rng: random.Random) -> metrics.Filters:
    """Long and short ranges anywhere over the data, never a partner or group (those read other rows)."""
    start = FIRST + dt.timedelta(days=rng.randrange(-10, 100))
    end = start + dt.timedelta(days=rng.choice([0, 3, 30, 45, 80, 130]))
    program = rng.choice([None, *Program.objects.filter(workspace=workspace)])
    currency = program.currency if program else rng.choice(["USD", "EUR"])
    return metrics.Filters(
        start=start,
        end=end,
        currency=currency,
        program_id=program.pk if program else None,
        channel=rng.choice([None, None, None, "newsletter", ""]),
    )


def _assert_equal_to_recount(workspace, f: metrics.Filters) -> None:
    raw = recompute(workspace, f)
    s = metrics.summary(workspace, f)
    assert (s.timing.customers, s.timing.median_seconds, s.timing.p90_seconds) == (
        raw["timing_count"],
        raw["median_seconds"],
        raw["p90_seconds"],
    ), f
    assert s.active_partners == raw["active_partners"], f
    rows = metrics.breakdown(workspace, f, "partner")
    assert {r.key: r.totals.sales_amount for r in rows if r.totals.sales_amount} == raw["by_partner_sales"], f
    assert sum(r.totals.clicks for r in rows) == raw.get("clicks", 0), f
    assert sum(r.totals.commission_net for r in rows) == raw["commission_net"], f
    top = metrics.breakdown(workspace, f, "partner", limit=3)
    assert [r.key for r in top] == [r.key for r in rows[:3]]


def _running_rows(workspace) -> dict:
    return {
        model: sorted(model.objects.filter(workspace=workspace).values_list(*fields))
        for model, fields in RUNNING_FIELDS.items()
    }


def test_partner_figures_and_percentiles_equal_a_recount_across_months_and_years(funnel):
    rng = random.Random(5)
    for _ in range(14):
        _assert_equal_to_recount(funnel, _filters(funnel, rng))


def test_a_range_over_the_turn_of_the_year_equals_a_recount(funnel):
    for start, end in [
        (dt.date(2025, 12, 15), dt.date(2026, 1, 20)),
        (dt.date(2025, 11, 5), END),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        (dt.date(2025, 12, 31), dt.date(2026, 1, 1)),
    ]:
        _assert_equal_to_recount(funnel, metrics.Filters(start=start, end=end, currency="USD"))


def test_a_late_sale_and_a_new_partner_on_an_old_day_refresh_only_that_day_exactly(funnel):
    """Out of order: the day refreshed lies before days already rolled up, in a month and a year
    that go on after it, and brings a partner with no earlier activity."""
    day = dt.date(2025, 12, 3)
    usd = Program.objects.get(workspace=funnel, currency="USD")
    newcomer = Partner.objects.create(workspace=funnel, program=usd, name="Late partner", email="late@example.test")
    at = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    referral = Referral.objects.create(
        workspace=funnel, program=usd, partner=newcomer, customer_external_id="late-1", source="manual"
    )
    Referral.objects.filter(pk=referral.pk).update(created_at=at)
    Conversion.objects.create(
        workspace=funnel,
        program=usd,
        referral=referral,
        partner=newcomer,
        kind="sale",
        event_id=f"late-{uuid.uuid4().hex}",
        amount=Decimal("99999.00"),
        currency="USD",
        occurred_at=at + dt.timedelta(hours=5),
    )
    rollups.refresh_days(workspace_id=funnel.pk, dates=[day])
    f = metrics.Filters(start=dt.date(2025, 11, 20), end=END, currency="USD")
    _assert_equal_to_recount(funnel, f)
    assert metrics.breakdown(funnel, f, "partner", limit=1)[0].key == newcomer.pk
    incremental = _running_rows(funnel)
    _rebuild(funnel)
    assert _running_rows(funnel) == incremental


def test_erased_rows_and_refunds_leave_the_running_totals_equal_to_a_rebuild(funnel):
    sale = (
        Conversion.objects.filter(workspace=funnel, kind="sale", referral__click__isnull=False).order_by("id").first()
    )
    referral = sale.referral
    days = {referral.created_at.date(), referral.click.clicked_at.date()}
    days |= {c.occurred_at.date() for c in Conversion.objects.filter(referral=referral)}
    # A refund of another sale, in full, a week later.
    other = Conversion.objects.filter(workspace=funnel, kind="sale").exclude(referral=referral).order_by("-id").first()
    Commission.objects.filter(referral=referral).delete()
    Conversion.objects.filter(referral=referral, kind="refund").delete()
    Conversion.objects.filter(referral=referral).delete()
    referral.delete()
    refund_at = other.occurred_at + dt.timedelta(days=7)
    Conversion.objects.create(
        workspace=funnel,
        program=other.program,
        referral=other.referral,
        partner=other.partner,
        kind="refund",
        event_id=f"refund-{uuid.uuid4().hex}",
        amount=other.amount,
        currency=other.currency,
        sale=other,
        occurred_at=refund_at,
    )
    rollups.refresh_days(workspace_id=funnel.pk, dates=days | {refund_at.date()})
    for start, end in [(FIRST, END), (dt.date(2025, 12, 20), dt.date(2026, 1, 10))]:
        _assert_equal_to_recount(funnel, metrics.Filters(start=start, end=end, currency=other.currency))
    incremental = _running_rows(funnel)
    _rebuild(funnel)
    assert _running_rows(funnel) == incremental


def test_erasing_the_last_clicks_of_a_month_keeps_its_running_totals_exact(funnel):
    last = max(
        Click.objects.filter(workspace=funnel, clicked_at__date__lte=dt.date(2026, 1, 31)).values_list(
            "clicked_at", flat=True
        )
    ).date()
    detached = Referral.objects.filter(workspace=funnel, click__clicked_at__date=last)
    # Their leads and sales lose the click's channel and first touch: those days change too.
    days = {last, *(r.created_at.date() for r in detached)}
    days |= {c.occurred_at.date() for c in Conversion.objects.filter(referral__in=detached)}
    detached.update(click=None)
    Click.objects.filter(workspace=funnel, clicked_at__date=last).delete()
    rollups.refresh_days(workspace_id=funnel.pk, dates=days)
    _assert_equal_to_recount(
        funnel, metrics.Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 5), currency="USD")
    )
    incremental = _running_rows(funnel)
    _rebuild(funnel)
    assert _running_rows(funnel) == incremental


def test_a_group_filter_reads_the_running_totals_through_the_partners_group(funnel):
    group = PartnerGroup.objects.filter(workspace=funnel).first()
    f = metrics.Filters(start=FIRST, end=END, currency="USD", group_id=group.pk)
    raw = recompute(funnel, f)
    assert metrics.active_partners(funnel, f) == raw["active_partners"]
    rows = metrics.breakdown(funnel, f, "partner")
    assert {r.key: r.totals.sales_amount for r in rows if r.totals.sales_amount} == raw["by_partner_sales"]
