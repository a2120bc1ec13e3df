"""The rollups equal a recomputation from the raw rows, whatever the data and the filter."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.management import call_command

from partners.models import Partner, PartnerGroup, Program
from reporting import metrics, rollups
from reporting.rollups import refresh
from reporting.rollups.models import DailyRollup, DailySummary
from tests.reporting.metrics_data import TODAY, make_funnel, recompute

pytestmark = pytest.mark.django_db

COUNTS = (
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
MONEY = (
    "sales_amount",
    "refunds_amount",
    "commission_pending",
    "commission_approved",
    "commission_paid",
    "commission_rejected",
    "commission_reversed",
    "commission_net",
)


def random_filters(workspace, rng: random.Random) -> metrics.Filters:
    start = TODAY - dt.timedelta(days=rng.randrange(0, 70))
    end = min(TODAY + dt.timedelta(days=5), start + dt.timedelta(days=rng.randrange(0, 60)))
    program = rng.choice([None, *Program.objects.filter(workspace=workspace)])
    currency = program.currency if program else rng.choice(["USD", "EUR"])
    return metrics.Filters(
        start=start,
        end=end,
        currency=currency,
        program_id=program.pk if program else None,
        group_id=rng.choice(
            [None, None, *PartnerGroup.objects.filter(workspace=workspace).values_list("pk", flat=True)]
        ),
        partner_id=rng.choice(
            [None, None, None, *Partner.objects.filter(workspace=workspace).values_list("pk", flat=True)]
        ),
        channel=rng.choice([None, None, "newsletter", "", "blog"]),
    )


@pytest.mark.parametrize("seed", [3, 17])
def test_rollup_totals_equal_a_recount_of_the_raw_rows_for_random_filters(workspace, seed):
    make_funnel(workspace, seed=seed)
    rollups.rebuild(workspace_id=workspace.pk, start=TODAY - dt.timedelta(days=80), end=TODAY + dt.timedelta(days=30))
    rng = random.Random(seed)
    for _ in range(12):
        f = random_filters(workspace, rng)
        expected = recompute(workspace, f)
        got = metrics.totals(workspace, f)
        for name in COUNTS + MONEY:
            assert getattr(got, name) == expected.get(name, 0), (name, f)


def test_summary_rows_add_up_to_the_fine_rows(workspace):
    make_funnel(workspace, seed=5)
    rollups.rebuild(workspace_id=workspace.pk, start=TODAY - dt.timedelta(days=80), end=TODAY + dt.timedelta(days=30))
    fine = DailyRollup.objects.filter(workspace=workspace).aggregate(
        **{m: __import__("django").db.models.Sum(m) for m in COUNTS}
    )
    coarse = DailySummary.objects.filter(workspace=workspace).aggregate(
        **{m: __import__("django").db.models.Sum(m) for m in COUNTS}
    )
    assert fine == coarse
    assert fine["clicks"] > 0


def test_refreshing_a_day_twice_changes_nothing(workspace):
    make_funnel(workspace, seed=7)
    day = TODAY - dt.timedelta(days=10)
    rollups.refresh_days(workspace_id=workspace.pk, dates=[day])
    first = list(DailyRollup.objects.filter(workspace=workspace).order_by("id").values(*COUNTS, "day"))
    rollups.refresh_days(workspace_id=workspace.pk, dates=[day])
    second = list(DailyRollup.objects.filter(workspace=workspace).order_by("id").values(*COUNTS, "day"))
    assert [sorted(r.items()) for r in first] == [sorted(r.items()) for r in second]
    assert {r["day"] for r in second} == {day}


def test_touched_days_include_the_lead_day_of_a_new_sale(workspace):
    make_funnel(workspace, seed=9, clicks=80)
    from attribution.models import Conversion

    sale = Conversion.objects.filter(workspace=workspace, kind="sale").select_related("referral").first()
    since = sale.created_at - dt.timedelta(seconds=1)
    days = rollups.touched_days(workspace_id=workspace.pk, since=since)
    assert sale.occurred_at.date() in days
    assert sale.referral.created_at.date() in days
    if sale.referral.click_id:
        assert sale.referral.click.clicked_at.date() in days


def test_refresh_recent_brings_a_late_sale_into_its_lead_and_click_cohorts(workspace):
    """A sale today changes the cohort counts of the days its lead and click happened."""
    import uuid
    from decimal import Decimal

    from attribution.models import Conversion
    from referrals.models import Referral

    make_funnel(workspace, seed=13, clicks=120)
    rollups.rebuild(workspace_id=workspace.pk, start=TODAY - dt.timedelta(days=80), end=TODAY + dt.timedelta(days=30))
    referral = Referral.objects.filter(workspace=workspace, click__isnull=False, conversions__isnull=True).first()
    rollups.refresh_recent()  # sets the watermark
    Conversion.objects.create(
        workspace=workspace,
        program=referral.program,
        referral=referral,
        partner=referral.partner,
        kind="sale",
        event_id=f"late-{uuid.uuid4().hex}",
        amount=Decimal("10"),
        currency=referral.program.currency,
        occurred_at=referral.created_at + dt.timedelta(days=1),
    )
    rollups.refresh_recent()
    day = referral.click.clicked_at.date()
    f = metrics.Filters(start=day, end=day, currency=referral.program.currency)
    assert metrics.totals(workspace, f).clicked_customers == recompute(workspace, f)["clicked_customers"]
    lead_day = referral.created_at.date()
    f = metrics.Filters(start=lead_day, end=lead_day, currency=referral.program.currency)
    assert metrics.totals(workspace, f).converted_leads == recompute(workspace, f)["converted_leads"]


def test_rebuild_rollups_command_rebuilds_the_data_span(workspace, capsys):
    make_funnel(workspace, seed=11, clicks=60)
    call_command("rebuild_rollups", "--workspace", workspace.slug)
    assert "Rebuilt" in capsys.readouterr().out
    f = metrics.Filters(start=TODAY - dt.timedelta(days=90), end=TODAY + dt.timedelta(days=30), currency="USD")
    assert metrics.totals(workspace, f).clicks == recompute(workspace, f)["clicks"]


def test_refresh_recent_moves_the_watermark(workspace):
    from reporting.rollups.models import RollupState

    rollups.refresh_recent()
    assert RollupState.objects.filter(workspace=workspace).exists()


def test_touched_days_include_the_days_of_a_lead_backfilled_without_a_sale(workspace):
    from django.utils import timezone

    from tests.attribution.conftest import click_of, lead, send
    from tests.partners.factories import PartnerFactory

    partner = PartnerFactory(workspace=workspace)
    happened = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
    click = click_of(partner, at=happened - dt.timedelta(days=1))
    since = timezone.now() - dt.timedelta(seconds=1)
    send(workspace, lead("old-lead", "cus_old", click_id=click.click_id, occurred_at=happened))
    days = rollups.touched_days(workspace_id=workspace.pk, since=since)
    assert {happened.date(), click.clicked_at.date()} <= days


def test_a_backdated_first_sale_moves_the_customer_off_its_old_day(workspace):
    """A customer whose first sale arrives late, dated before the sale already counted, is counted
    once, on the earlier day, and its time to conversion follows."""
    import uuid
    from decimal import Decimal

    from django.utils import timezone

    from attribution.models import Conversion
    from referrals.models import Referral

    make_funnel(workspace, seed=21, clicks=120)
    referral = Referral.objects.filter(workspace=workspace, conversions__isnull=True).first()
    currency = referral.program.currency

    def sale(days_after: int) -> Conversion:
        return Conversion.objects.create(
            workspace=workspace,
            program=referral.program,
            referral=referral,
            partner=referral.partner,
            kind="sale",
            event_id=f"s-{uuid.uuid4().hex}",
            amount=Decimal("10"),
            currency=currency,
            occurred_at=referral.created_at + dt.timedelta(days=days_after),
        )

    later = sale(5)
    rollups.rebuild(workspace_id=workspace.pk, start=TODAY - dt.timedelta(days=80), end=TODAY + dt.timedelta(days=30))
    since = timezone.now()
    earlier = sale(2)
    # What the periodic refresh does with the rows created since its last run.
    rollups.refresh_days(workspace_id=workspace.pk, dates=rollups.touched_days(workspace_id=workspace.pk, since=since))
    for day in (later.occurred_at.date(), earlier.occurred_at.date()):
        f = metrics.Filters(start=day, end=day, currency=currency)
        assert metrics.totals(workspace, f).customers == recompute(workspace, f).get("customers", 0), day
        assert metrics.timing(workspace, f).customers == recompute(workspace, f).get("customers", 0), day


def _refresh_quietly() -> dict[int, int]:
    # No lookback: only what was stored since the previous run counts as new.
    return rollups.refresh_recent(lookback=dt.timedelta(0))


def test_refresh_recent_leaves_a_workspace_where_nothing_happened_alone(workspace):
    make_funnel(workspace, seed=23, clicks=40)
    _refresh_quietly()
    _refresh_quietly()  # the first two runs refresh today and yesterday whatever happened
    generation = rollups.generation(workspace.pk)
    assert workspace.pk not in _refresh_quietly()
    assert rollups.generation(workspace.pk) == generation  # cached reports stay valid


def test_refresh_recent_rebuilds_the_day_of_a_click_stored_late(workspace):
    """A click flushed from the buffer long after it happened (the flusher was down) still reaches its day."""
    from referrals.models import Click, Link

    make_funnel(workspace, seed=25, clicks=40)
    rollups.rebuild(workspace_id=workspace.pk, start=TODAY - dt.timedelta(days=80), end=TODAY + dt.timedelta(days=30))
    _refresh_quietly()
    _refresh_quietly()
    link = Link.objects.filter(workspace=workspace).first()
    day = TODAY - dt.timedelta(days=20)
    Click.objects.create(
        workspace=workspace,
        link=link,
        partner=link.partner,
        click_id=f"late-{workspace.pk}",
        clicked_at=dt.datetime.combine(day, dt.time(12), dt.UTC),
        ip_hash="0" * 64,
        visitor_hash="v-late",
        is_unique=True,
        earns_credit=True,
    )
    assert _refresh_quietly()[workspace.pk] == 1
    f = metrics.Filters(start=day, end=day, currency=link.program.currency)
    assert metrics.totals(workspace, f).clicks == recompute(workspace, f)["clicks"] >= 1


def test_refresh_recent_skips_while_another_run_is_busy(workspace):
    """Two runs at once would each move the click marks on; the second one does nothing instead."""
    import psycopg
    from django.db import connection

    make_funnel(workspace, seed=27, clicks=20)
    other = psycopg.connect(
        **{k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}, autocommit=True
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", refresh._REFRESH_LOCK)
        assert rollups.refresh_recent() == {}
        other.execute("SELECT pg_advisory_unlock(%s, %s)", refresh._REFRESH_LOCK)
        assert workspace.pk in rollups.refresh_recent()
    finally:
        other.close()
