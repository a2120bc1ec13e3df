"""Raw clicks past the workspace's retention are deleted once their days are rolled up; the reports
keep those days' totals, even when the rollups are rebuilt later."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db.models import Sum

from accounts.models import Workspace
from referrals.models import Click, Referral
from reporting import rollups
from reporting.privacy.retention import delete_expired_clicks, retention_cutoff
from reporting.privacy.tasks import delete_expired_clicks as delete_expired_clicks_task
from reporting.rollups.models import DailySummary
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import ClickFactory, LinkFactory

NOW = dt.datetime(2026, 6, 15, 3, 0, tzinfo=dt.UTC)
OLD = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)  # 27 months before NOW
RECENT = dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.UTC)  # 23 months before NOW


@pytest.fixture
def link(workspace):
    partner = PartnerFactory(workspace=workspace)
    return LinkFactory(workspace=workspace, partner=partner, program=partner.program)


def clicks(link, at: dt.datetime, n: int, **fields) -> list[Click]:
    return [ClickFactory(link=link, clicked_at=at + dt.timedelta(minutes=i), **fields) for i in range(n)]


def rolled_up_clicks(workspace, day: dt.date) -> int:
    totals = DailySummary.objects.filter(workspace=workspace, day=day).aggregate(h=Sum("clicks"), b=Sum("bot_clicks"))
    return (totals["h"] or 0) + (totals["b"] or 0)


def roll_up(workspace, *days: dt.date) -> None:
    rollups.refresh_days(workspace_id=workspace.pk, dates=list(days))


def test_the_default_retention_is_25_months(workspace):
    assert retention_cutoff(workspace, now=NOW) == dt.date(2024, 5, 15)


def test_old_rolled_up_clicks_are_deleted_and_recent_ones_kept(workspace, link):
    clicks(link, OLD, 3)
    clicks(link, OLD, 1, is_bot=True)
    clicks(link, RECENT, 2)
    roll_up(workspace, OLD.date(), RECENT.date())

    deleted = delete_expired_clicks(workspace=workspace, now=NOW)

    assert deleted == 4
    assert list(Click.objects.filter(workspace=workspace).values_list("clicked_at__date", flat=True)) == [
        RECENT.date(),
        RECENT.date(),
    ]
    assert rolled_up_clicks(workspace, OLD.date()) == 4


def test_clicks_of_a_day_not_rolled_up_are_kept(workspace, link):
    clicks(link, OLD, 3)  # never rolled up

    assert delete_expired_clicks(workspace=workspace, now=NOW) == 0
    assert Click.objects.filter(workspace=workspace).count() == 3


def test_a_day_whose_rollup_misses_clicks_is_kept(workspace, link):
    clicks(link, OLD, 2)
    roll_up(workspace, OLD.date())
    clicks(link, OLD + dt.timedelta(hours=2), 1)  # arrived after the rollup

    assert delete_expired_clicks(workspace=workspace, now=NOW) == 0


def test_a_click_that_won_a_referral_is_kept(workspace, link):
    won, lost = clicks(link, OLD, 2)
    Referral.objects.create(
        workspace=workspace, program=link.program, partner=link.partner, customer_external_id="c1",
        source=Referral.Source.LINK, click=won,
    )  # fmt: skip
    roll_up(workspace, OLD.date())

    assert delete_expired_clicks(workspace=workspace, now=NOW) == 1
    assert list(Click.objects.filter(workspace=workspace)) == [won]


def test_rebuilding_the_rollups_later_keeps_the_history(workspace, link):
    clicks(link, OLD, 5)
    roll_up(workspace, OLD.date())
    delete_expired_clicks(workspace=workspace, now=NOW)

    rollups.rebuild(
        workspace_id=workspace.pk, start=OLD.date() - dt.timedelta(days=3), end=OLD.date() + dt.timedelta(days=3)
    )

    assert rolled_up_clicks(workspace, OLD.date()) == 5


def test_a_shorter_retention_is_a_workspace_setting(workspace, link):
    clicks(link, RECENT, 2)
    roll_up(workspace, RECENT.date())
    Workspace.objects.filter(pk=workspace.pk).update(settings={"click_retention_months": 12})
    workspace.refresh_from_db()

    assert delete_expired_clicks(workspace=workspace, now=NOW) == 2


def test_the_beat_task_sweeps_every_workspace_and_twice_changes_nothing(workspace, other_workspace, link):
    other_partner = PartnerFactory(workspace=other_workspace)
    other_link = LinkFactory(workspace=other_workspace, partner=other_partner, program=other_partner.program)
    clicks(link, OLD, 2)
    clicks(other_link, OLD, 3)
    roll_up(workspace, OLD.date())
    roll_up(other_workspace, OLD.date())

    with time_machine.travel(NOW, tick=False):
        first = delete_expired_clicks_task.apply().get()
        second = delete_expired_clicks_task.apply().get()

    assert first == {workspace.slug: 2, other_workspace.slug: 3}
    assert second == {}
