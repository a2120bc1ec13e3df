"""Each event reaches the endpoints that chose it, from the service where it happens, in the caller's
transaction: partner.created, referral.created, commission.created/approved/reversed, statement.issued/paid."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from accounts.outbound import services
from accounts.outbound.events import EVENT_TYPES
from accounts.outbound.models import WebhookDelivery
from attribution.outbound import emit_commissions
from attribution.services import approve_commissions
from partners.services import create_partner
from reporting.payouts.statements import close_payout_period, mark_statements_paid
from tests.accounts.outbound_receiver import fresh_subscriptions  # noqa: F401 - fixture
from tests.attribution.conftest import anna, click_of, lead, program, refund, sale, send  # noqa: F401 - fixtures
from tests.attribution.factories import RewardRuleFactory
from tests.reporting.payout_helpers import earn

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(workspace):
    return services.create_endpoint(
        workspace=workspace, url="https://hooks.example.com/tandem", events=list(EVENT_TYPES), by=None
    )


def sent(workspace, event_type: str) -> list[dict]:
    bodies = WebhookDelivery.objects.for_workspace(workspace).filter(event_type=event_type).order_by("created_at", "id")
    return [json.loads(delivery.body) for delivery in bodies]


def test_a_new_partner_is_announced(workspace, endpoint):
    partner, _ = create_partner(workspace=workspace, name="Cleo", email="cleo@partner.test")

    [body] = sent(workspace, "partner.created")
    assert body["type"] == "partner.created"
    assert body["data"]["id"] == partner.pk
    assert body["data"]["email"] == "cleo@partner.test"
    assert body["data"]["program_id"] == partner.program_id


def test_adding_the_same_partner_again_announces_nothing_more(workspace, endpoint):
    create_partner(workspace=workspace, name="Cleo", email="cleo@partner.test")
    create_partner(workspace=workspace, name="Cleo", email="cleo@partner.test")

    assert len(sent(workspace, "partner.created")) == 1


def test_a_lead_announces_its_referral_by_the_customers_id_not_email(workspace, endpoint, anna):
    send(workspace, lead("l1", "cus_1", click_id=click_of(anna).click_id, customer_email="john@bigco.com"))

    [body] = sent(workspace, "referral.created")
    assert body["data"]["customer_external_id"] == "cus_1"
    assert body["data"]["partner_id"] == anna.pk and body["data"]["source"] == "link"
    assert "john@bigco.com" not in json.dumps(body)


def test_a_sale_announces_its_commission_with_amount_and_currency(workspace, endpoint, anna, program):
    RewardRuleFactory(workspace=workspace, program=program, sale_value=Decimal("20"))

    send(workspace, sale("s1", "cus_1", amount="60.00", partner_id=anna.pk))

    [body] = sent(workspace, "commission.created")
    assert body["data"]["amount"] == "12.00" and body["data"]["currency"] == "USD"
    assert body["data"]["event_id"] == "s1"
    assert body["data"]["partner_id"] == anna.pk and body["data"]["status"] == "pending"


def test_approving_announces_each_commission(workspace, endpoint, anna, program):
    RewardRuleFactory(workspace=workspace, program=program, sale_value=Decimal("20"))
    send(workspace, sale("s1", "cus_1", amount="60.00", partner_id=anna.pk))
    send(workspace, sale("s2", "cus_2", amount="10.00", partner_id=anna.pk))
    ids = [body["data"]["id"] for body in sent(workspace, "commission.created")]

    approve_commissions(workspace=workspace, ids=ids, by=None)

    approved = sent(workspace, "commission.approved")
    assert sorted(body["data"]["id"] for body in approved) == sorted(ids)
    assert {body["data"]["status"] for body in approved} == {"approved"}


def test_a_refund_announces_the_reversal_and_what_it_took_back(workspace, endpoint, anna, program):
    RewardRuleFactory(workspace=workspace, program=program, sale_value=Decimal("20"))
    send(workspace, sale("s1", "cus_1", amount="60.00", partner_id=anna.pk))

    send(workspace, refund("r1", "s1", amount="30.00"))

    [body] = sent(workspace, "commission.reversed")
    assert body["data"]["reversal"] == {"amount": "6.00", "currency": "USD", "refund_event_id": "r1"}
    assert body["data"]["reversed_amount"] == "6.00"


def test_closing_a_period_announces_each_statement_and_paying_it_too(workspace, endpoint, anna):
    earn(anna, "40.00", on="2026-09-15")

    closed = close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 10, 2))
    mark_statements_paid(workspace=workspace, statement_ids=[s.pk for s in closed.statements], reference="WIRE-1")

    [issued] = sent(workspace, "statement.issued")
    [paid] = sent(workspace, "statement.paid")
    statement = closed.statements[0]
    assert issued["data"]["id"] == statement.pk and issued["data"]["number"] == statement.number
    assert issued["data"]["total"] == "40.00" and issued["data"]["currency"] == "USD"
    assert paid["data"]["status"] == "paid" and paid["data"]["paid_at"]


def test_an_endpoint_hears_only_the_events_it_chose(workspace, anna, program):
    services.create_endpoint(workspace=workspace, url="https://hooks.example.com/", events=["statement.paid"], by=None)
    RewardRuleFactory(workspace=workspace, program=program, sale_value=Decimal("20"))

    send(workspace, sale("s1", "cus_1", amount="60.00", partner_id=anna.pk))

    assert not WebhookDelivery.objects.for_workspace(workspace).exists()


def test_a_workspace_without_endpoints_spends_no_query_on_webhooks(workspace, django_assert_num_queries):
    emit_commissions(workspace.pk, "commission.created", [1])  # learns (and caches) that nobody listens

    with django_assert_num_queries(0):
        emit_commissions(workspace.pk, "commission.created", list(range(1, 1001)))
