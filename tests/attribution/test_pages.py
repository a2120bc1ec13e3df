"""The managers' pages: events, commissions, reward rules, exchange rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from attribution.models import Commission, ExchangeRate, InboundEvent, RewardRule
from tests.attribution.conftest import lead, sale, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def earned(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "100.00"), sale("s2", "cus_nobody"))
    return Commission.objects.for_workspace(workspace).get()


def test_the_events_page_shows_each_events_state_and_reason(viewer_client, workspace, earned):
    page = viewer_client.get(f"/w/{workspace.slug}/events/").content.decode()
    assert "s1" in page and "Attributed" in page
    assert "is not any partner&#x27;s referral" in page


def test_the_events_page_filters_by_state_for_htmx(manager_client, workspace, earned):
    response = manager_client.get(
        f"/w/{workspace.slug}/events/", {"status": "unattributed"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "s2" in body and ">s1<" not in body
    assert "<html" not in body


def test_a_manager_sends_unattributed_events_again(manager_client, workspace, earned):
    stuck = InboundEvent.objects.for_workspace(workspace).get(event_id="s2")
    response = manager_client.post(f"/w/{workspace.slug}/events/retry/", {"ids": [stuck.pk]})
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == "received"


def test_a_viewer_cannot_send_events_again(viewer_client, workspace, earned):
    assert viewer_client.post(f"/w/{workspace.slug}/events/retry/", {"reason_code": "no_partner"}).status_code == 403


def test_finance_reads_the_commissions_list(finance_client, workspace, earned):
    page = finance_client.get(f"/w/{workspace.slug}/commissions/").content.decode()
    assert "Anna" in page and "20.00 USD" in page
    assert 'value="approve"' not in page


def test_a_manager_approves_selected_commissions(manager_client, workspace, earned):
    response = manager_client.post(f"/w/{workspace.slug}/commissions/bulk/", {"action": "approve", "ids": [earned.pk]})
    assert response.status_code == 302
    earned.refresh_from_db()
    assert earned.status == "approved"


def test_rejecting_selected_commissions_needs_a_reason(manager_client, workspace, earned):
    manager_client.post(f"/w/{workspace.slug}/commissions/bulk/", {"action": "reject", "ids": [earned.pk]})
    earned.refresh_from_db()
    assert earned.status == "pending"
    manager_client.post(
        f"/w/{workspace.slug}/commissions/bulk/", {"action": "reject", "ids": [earned.pk], "reason": "Test purchase"}
    )
    earned.refresh_from_db()
    assert (earned.status, earned.rejection_reason) == ("rejected", "Test purchase")


def test_finance_cannot_approve(finance_client, workspace, earned):
    assert (
        finance_client.post(
            f"/w/{workspace.slug}/commissions/bulk/", {"action": "approve", "ids": [earned.pk]}
        ).status_code
        == 403
    )


def test_the_commission_page_explains_it(viewer_client, workspace, earned):
    page = viewer_client.get(f"/w/{workspace.slug}/commissions/{earned.pk}/").content.decode()
    assert "Credited to Anna" in page
    assert "version 1" in page
    assert "Commission earned" in page  # its ledger entry


def test_an_outsider_gets_404_for_a_commission(outsider_client, workspace, earned):
    assert outsider_client.get(f"/w/{workspace.slug}/commissions/{earned.pk}/").status_code == 404


def test_another_workspaces_commission_is_404_to_its_staff(owner_client, other_workspace, workspace):
    from tests.attribution.factories import CommissionFactory

    theirs = CommissionFactory(workspace=other_workspace)
    assert owner_client.get(f"/w/{workspace.slug}/commissions/{theirs.pk}/").status_code == 404


def test_a_manager_adds_a_reward_rule_version_from_a_date(manager_client, workspace, program):
    response = manager_client.post(
        f"/w/{workspace.slug}/programs/{program.pk}/rewards/",
        {
            "name": "25% for a year",
            "sale_type": "percent",
            "sale_value": "25",
            "duration": "months",
            "duration_months": "12",
            "effective_from": "2026-02-01T00:00",
        },
    )
    assert response.status_code == 302
    newest = RewardRule.objects.for_workspace(workspace).order_by("-version").first()
    assert (newest.version, newest.sale_value) == (2, Decimal("25"))


def test_a_reward_rule_form_error_stays_next_to_its_field(manager_client, workspace, program):
    response = manager_client.post(
        f"/w/{workspace.slug}/programs/{program.pk}/rewards/",
        {"name": "Monthly", "sale_type": "percent", "sale_value": "10", "duration": "months"},
    )
    assert response.status_code == 200
    assert "Say for how many months" in response.content.decode()


def test_finance_reads_reward_rules_but_cannot_change_them(finance_client, workspace, program):
    assert finance_client.get(f"/w/{workspace.slug}/programs/{program.pk}/rewards/").status_code == 200
    assert finance_client.post(f"/w/{workspace.slug}/programs/{program.pk}/rewards/", {}).status_code == 403


def test_the_reward_overview_lists_each_programs_rule(viewer_client, workspace, program):
    assert "Default: 20% for 12 months" in viewer_client.get(f"/w/{workspace.slug}/rewards/").content.decode()


def test_finance_adds_an_exchange_rate(finance_client, workspace):
    response = finance_client.post(
        f"/w/{workspace.slug}/settings/exchange-rates/",
        {"date": "2026-01-15", "from_currency": "eur", "to_currency": "usd", "rate": "1.08"},
    )
    assert response.status_code == 302
    assert ExchangeRate.objects.for_workspace(workspace).get().from_currency == "EUR"


def test_a_viewer_cannot_add_exchange_rates(viewer_client, workspace):
    response = viewer_client.post(
        f"/w/{workspace.slug}/settings/exchange-rates/",
        {"date": "2026-01-15", "from_currency": "EUR", "to_currency": "USD", "rate": "1.08"},
    )
    assert response.status_code == 403


def test_the_pages_are_404_to_an_outsider(outsider_client, workspace):
    for path in ("events/", "commissions/", "rewards/", "settings/exchange-rates/"):
        assert outsider_client.get(f"/w/{workspace.slug}/{path}").status_code == 404
