"""The commissions page: combinable filters in the URL, a summary that says its period, bulk decisions on top,
"approve all due", "select all matching" and the CSV export of the filtered list."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from attribution.models import Commission
from tests.attribution.factories import CommissionFactory
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

NOV_10 = datetime(2026, 11, 10, 12, tzinfo=UTC)
NOV_20 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def commission(workspace, partner=None, **fields):
    if partner is not None:
        fields.update(partner=partner, program=partner.program)
    return CommissionFactory(workspace=workspace, **fields)


def url(workspace, tail=""):
    return f"/w/{workspace.slug}/commissions/{tail}"


def listed(response) -> set[int]:
    return {c.pk for c in response.context["page"].object_list}


@pytest.fixture
def anna(workspace):
    return PartnerFactory(workspace=workspace, name="Anna")


def test_status_partner_and_dates_filters_combine(manager_client, workspace, anna):
    wanted = commission(workspace, anna, occurred_at=NOV_10)
    commission(workspace, anna, occurred_at=NOV_20)  # outside the dates
    commission(workspace, anna, occurred_at=NOV_10, status=Commission.Status.APPROVED)  # another status
    commission(workspace, occurred_at=NOV_10)  # another partner

    response = manager_client.get(
        url(workspace), {"status": "pending", "partner": anna.pk, "start": "2026-11-01", "end": "2026-11-15"}
    )

    assert listed(response) == {wanted.pk}


def test_the_date_range_includes_its_last_day(manager_client, workspace):
    late_on_the_last_day = commission(workspace, occurred_at=datetime(2026, 11, 15, 23, 59, tzinfo=UTC))

    response = manager_client.get(url(workspace), {"start": "2026-11-15", "end": "2026-11-15"})

    assert listed(response) == {late_on_the_last_day.pk}


def test_a_range_ending_before_it_starts_is_an_error_next_to_the_field(manager_client, workspace):
    response = manager_client.get(url(workspace), {"start": "2026-11-15", "end": "2026-11-01"})

    assert "on or after the first day" in str(response.context["filters"].errors["end"])


def test_the_summary_says_which_period_it_covers(manager_client, workspace):
    commission(workspace, occurred_at=NOV_10)

    page = manager_client.get(url(workspace), {"start": "2026-11-01", "end": "2026-11-30"}).content.decode()

    assert "Earned 1 Nov 2026 – 30 Nov 2026" in page
    assert "Pending · 1 ·" in page


def test_the_summary_without_dates_says_any_time(viewer_client, workspace):
    commission(workspace)

    assert "Earned at any time" in viewer_client.get(url(workspace)).content.decode()


def test_approve_and_reject_sit_above_the_list(manager_client, workspace):
    commission(workspace)

    page = manager_client.get(url(workspace)).content.decode()

    assert page.index('value="approve"') < page.index("<table")
    assert page.index('value="reject"') < page.index("<table")


def test_the_page_offers_a_select_all_box(manager_client, workspace):
    commission(workspace)

    assert 'data-select-all="ids"' in manager_client.get(url(workspace)).content.decode()


def test_the_next_page_link_keeps_the_filters(manager_client, workspace, anna, monkeypatch):
    monkeypatch.setattr("attribution.views.PAGE_SIZE", 1)
    for _ in range(2):
        commission(workspace, anna)

    page = manager_client.get(url(workspace), {"partner": anna.pk}).content.decode()

    assert f"partner={anna.pk}&amp;page=2" in page


def test_approve_all_due_approves_only_commissions_whose_hold_has_ended(manager_client, workspace):
    due = commission(workspace, hold_until=timezone.now() - timedelta(days=1))
    held = commission(workspace, hold_until=timezone.now() + timedelta(days=10))

    response = manager_client.post(url(workspace, "approve-due/"))

    assert response.status_code == 302
    due.refresh_from_db()
    held.refresh_from_db()
    assert (due.status, held.status) == ("approved", "pending")


def test_approving_all_due_twice_approves_nothing_the_second_time(manager_client, workspace):
    commission(workspace, hold_until=timezone.now() - timedelta(days=1))
    manager_client.post(url(workspace, "approve-due/"))

    response = manager_client.post(url(workspace, "approve-due/"), follow=True)

    assert "Nothing to approve" in response.content.decode()


def test_the_approve_all_due_button_counts_what_it_will_approve(manager_client, workspace):
    commission(workspace, hold_until=timezone.now() - timedelta(days=1))
    commission(workspace, hold_until=timezone.now() + timedelta(days=1))

    assert "Approve all due (1)" in manager_client.get(url(workspace)).content.decode()


def test_a_viewer_cannot_approve_all_due(viewer_client, workspace):
    assert viewer_client.post(url(workspace, "approve-due/")).status_code == 403


def test_selecting_all_matching_approves_every_page_of_the_filtered_list(manager_client, workspace, anna, monkeypatch):
    monkeypatch.setattr("attribution.views.PAGE_SIZE", 2)
    annas = [commission(workspace, anna) for _ in range(3)]
    someone_elses = commission(workspace)

    manager_client.post(
        url(workspace, "bulk/"), {"action": "approve", "scope": "matching", "back": f"partner={anna.pk}"}
    )

    statuses = dict(Commission.objects.filter(workspace=workspace).values_list("pk", "status"))
    assert {statuses[c.pk] for c in annas} == {"approved"}
    assert statuses[someone_elses.pk] == "pending"


def test_rejecting_all_matching_needs_a_reason(manager_client, workspace):
    kept = commission(workspace)

    manager_client.post(url(workspace, "bulk/"), {"action": "reject", "scope": "matching", "back": ""})

    kept.refresh_from_db()
    assert kept.status == "pending"


def test_rejecting_selected_commissions_keeps_the_reason(manager_client, workspace):
    rejected = commission(workspace)

    manager_client.post(url(workspace, "bulk/"), {"action": "reject", "ids": [rejected.pk], "reason": "Self-referral"})

    rejected.refresh_from_db()
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Self-referral")


def test_the_export_holds_the_filtered_commissions_only(finance_client, workspace, anna):
    kept = commission(workspace, anna, occurred_at=NOV_10)
    commission(workspace, occurred_at=NOV_10)

    response = finance_client.get(url(workspace, "export.csv"), {"partner": anna.pk})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [(r["commission_id"], r["partner"], r["amount"], r["earned_on"]) for r in rows] == [
        (str(kept.pk), "Anna", "20.00", "2026-11-10")
    ]


def test_the_export_defuses_spreadsheet_formulas(finance_client, workspace):
    commission(workspace, PartnerFactory(workspace=workspace, name="=HYPERLINK(1)"))

    body = b"".join(finance_client.get(url(workspace, "export.csv")).streaming_content).decode()

    assert "'=HYPERLINK(1)" in body


@pytest.mark.parametrize("tail", ["", "export.csv"])
def test_an_outsider_gets_404_for_the_list_and_the_export(outsider_client, workspace, tail):
    assert outsider_client.get(url(workspace, tail)).status_code == 404


def test_an_outsider_gets_404_for_approve_all_due(outsider_client, workspace):
    due = commission(workspace, hold_until=timezone.now() - timedelta(days=1))

    assert outsider_client.post(url(workspace, "approve-due/")).status_code == 404
    due.refresh_from_db()
    assert due.status == "pending"


def test_select_all_matching_never_reaches_another_workspace(manager_client, workspace, other_workspace):
    theirs = commission(other_workspace)

    manager_client.post(url(workspace, "bulk/"), {"action": "approve", "scope": "matching", "back": ""})

    theirs.refresh_from_db()
    assert theirs.status == "pending"
