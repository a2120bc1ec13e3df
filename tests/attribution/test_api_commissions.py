"""GET /api/v1/events/{id}, the commissions endpoints, reward rules and exchange rates."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from attribution.models import Commission, ExchangeRate, RewardRule
from tests.attribution.conftest import lead, sale, send
from tests.attribution.factories import CommissionFactory
from tests.partners.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def earned(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "49.99"))
    return Commission.objects.for_workspace(workspace).get()


def test_an_event_shows_its_state_its_conversion_and_commission(api_client, earned):
    body = api_client.get("/api/v1/events/s1").json()
    assert (body["status"], body["type"], body["conversion"]["amount"]) == ("attributed", "sale", "49.99")
    assert body["commissions"][0]["amount"] == "10.00"


def test_an_unattributed_event_says_why(api_client, workspace):
    send(workspace, sale("s9", "cus_nobody"))
    body = api_client.get("/api/v1/events/s9").json()
    assert (body["status"], body["reason_code"]) == ("unattributed", "no_partner")


def test_another_workspaces_event_is_not_found(api_client, other_workspace, anna):
    send(other_workspace, sale("theirs", "cus_1"))
    assert api_client.get("/api/v1/events/theirs").status_code == 404


def test_commissions_list_amounts_as_decimal_strings_with_the_explanation(api_client, earned, anna):
    body = api_client.get("/api/v1/commissions", {"partner_id": anna.pk, "status": "pending"}).json()
    item = body["items"][0]
    assert (item["amount"], item["currency"], item["status"], item["event_id"]) == ("10.00", "USD", "pending", "s1")
    assert item["explanation"]["attribution"]["partner"]["name"] == "Anna"
    assert body["next"] is None


def test_commissions_of_another_workspace_are_not_listed(api_client, other_workspace):
    CommissionFactory(workspace=other_workspace)
    assert api_client.get("/api/v1/commissions").json()["items"] == []


def test_an_unknown_status_filter_is_refused(api_client):
    assert api_client.get("/api/v1/commissions", {"status": "lost"}).status_code == 422


def test_approving_by_ids(api_client, earned):
    body = post(api_client, "/commissions/approve", {"ids": [earned.pk]}).json()
    assert body == {"approved": [earned.pk], "count": 1}
    earned.refresh_from_db()
    assert earned.status == "approved"


def test_approving_due_ones_leaves_those_on_hold(api_client, earned):
    assert post(api_client, "/commissions/approve", {"due": True}).json()["count"] == 1  # the sale was in January
    Commission.objects.filter(pk=earned.pk).update(status="pending", hold_until="2999-01-01T00:00:00Z")
    assert post(api_client, "/commissions/approve", {"due": True}).json()["count"] == 0


def test_approving_needs_ids_or_due(api_client):
    assert post(api_client, "/commissions/approve", {}).status_code == 422


def test_rejecting_with_a_reason(api_client, earned):
    body = post(api_client, "/commissions/reject", {"ids": [earned.pk], "reason": "Test order"}).json()
    assert body["rejected"] == [earned.pk]


def test_a_programs_rewards_start_with_the_default_rule(api_client, program):
    items = api_client.get(f"/api/v1/programs/{program.pk}/rewards").json()["items"]
    assert [(r["sale_value"], r["duration"], r["duration_months"]) for r in items] == [("20", "months", 12)]


def test_posting_a_reward_rule_adds_a_version(api_client, program):
    api_client.get(f"/api/v1/programs/{program.pk}/rewards")
    response = post(
        api_client,
        f"/programs/{program.pk}/rewards",
        {"name": "30% lifetime", "sale_value": "30", "duration": "lifetime", "effective_from": "2026-02-01T00:00:00Z"},
    )
    assert response.status_code == 201
    assert (response.json()["version"], response.json()["sale_value"]) == (2, "30")
    assert RewardRule.objects.filter(program=program).count() == 2


def test_a_reward_rule_with_a_months_duration_needs_the_months(api_client, program):
    response = post(
        api_client, f"/programs/{program.pk}/rewards", {"name": "x", "sale_value": "5", "duration": "months"}
    )
    assert response.status_code == 422 and "duration_months" in response.json()["error"]["fields"]


def test_another_workspaces_program_has_no_rewards_here(api_client, other_workspace):
    program = ProgramFactory(workspace=other_workspace)
    assert api_client.get(f"/api/v1/programs/{program.pk}/rewards").status_code == 404


def test_adding_and_listing_exchange_rates(api_client, workspace):
    response = post(
        api_client,
        "/exchange-rates",
        {"date": "2026-01-15", "from_currency": "eur", "to_currency": "USD", "rate": "1.0842"},
    )
    assert (response.status_code, response.json()["rate"]) == (201, "1.0842")
    assert (
        post(
            api_client,
            "/exchange-rates",
            {"date": "2026-01-15", "from_currency": "EUR", "to_currency": "USD", "rate": "1.0842"},
        ).status_code
        == 200
    )
    items = api_client.get("/api/v1/exchange-rates", {"from_currency": "EUR"}).json()["items"]
    assert [(i["date"], i["from_currency"], i["to_currency"]) for i in items] == [("2026-01-15", "EUR", "USD")]
    assert ExchangeRate.objects.for_workspace(workspace).count() == 1


def test_an_exchange_rate_as_a_json_number_is_refused(api_client):
    response = post(
        api_client,
        "/exchange-rates",
        {"date": "2026-01-15", "from_currency": "EUR", "to_currency": "USD", "rate": 1.08},
    )
    assert response.status_code == 422


def test_amounts_are_rounded_to_the_currencys_minor_unit(api_client, workspace, anna):
    CommissionFactory(
        workspace=workspace, partner=anna, amount=Decimal("1234"), currency="JPY", conversion__referral__partner=anna
    )
    items = api_client.get("/api/v1/commissions").json()["items"]
    assert items[0]["amount"] == "1234"
