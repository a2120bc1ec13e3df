"""Every figure says the period it covers: dashboard tiles, the commissions card, and the portal's next payout."""

from __future__ import annotations

import datetime as dt

import pytest

from reporting.filters import today
from reporting.metrics import Filters
from reporting.templatetags.report_tags import period_label
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def test_a_range_ending_today_reads_as_the_last_n_days():
    assert period_label(Filters(start=today() - dt.timedelta(days=29), end=today(), currency="USD")) == "last 30 days"


def test_a_range_in_the_past_reads_as_its_dates():
    f = Filters(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30), currency="USD")

    assert period_label(f) == "1 – 30 Nov 2026"


def test_a_range_across_years_names_both():
    f = Filters(start=dt.date(2025, 12, 15), end=dt.date(2026, 1, 14), currency="USD")

    assert period_label(f) == "15 Dec 2025 – 14 Jan 2026"


def test_every_dashboard_tile_says_its_period(manager_client, workspace):
    PartnerFactory(workspace=workspace)

    body = manager_client.get(f"/w/{workspace.slug}/", {"range": "30"}).content.decode()

    tiles = body.count('<div class="card kpi">')
    assert tiles >= 6
    assert body.count('<div class="period">Last 30 days</div>') == tiles


def test_the_portal_says_the_next_payout_is_all_time_and_the_tiles_and_commissions_their_range(
    partner_client, workspace
):
    body = partner_client.get(f"/portal/{workspace.slug}/").content.decode()

    assert 'Next payout <span class="period">· all time</span>' in body
    assert '<div class="period">Last 30 days</div>' in body
    assert 'Commissions by state <span class="period">· last 30 days</span>' in body
