"""Stripe sends events in no order: whatever the order, the partner is credited once, for the right amount,
and a refund takes back its share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import permutations

import pytest
from django.test import Client

from attribution.models import Commission, Conversion, InboundEvent
from attribution.processing import process_pending
from referrals.models import ReferralCode
from tests.attribution.conftest import click_of
from tests.attribution.integration_helpers import (
    charge_refunded,
    checkout_completed,
    invoice_paid,
    post_stripe,
    stripe_connected,  # noqa: F401 - fixture
)
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

CHECKOUT_AT = datetime.fromtimestamp(1_750_000_000, UTC)  # integration_helpers' `created`


@pytest.fixture
def partner(stripe_connected):
    partner = PartnerFactory(workspace=stripe_connected)
    ReferralCode.objects.create(workspace=stripe_connected, program=partner.program, partner=partner, code="ANNA20")
    return partner


def deliver_one_by_one(workspace, events) -> None:
    """Each event arrives and is processed before the next one is sent."""
    client = Client()
    for event in events:
        assert post_stripe(client, workspace.slug, event).status_code == 200
        process_pending(workspace=workspace)


def sale_commissions(workspace) -> list[tuple[int, Decimal, Decimal]]:
    return [
        (c.partner_id, c.amount, c.reversed_amount)
        for c in Commission.objects.for_workspace(workspace).filter(kind="sale")
    ]


SUBSCRIPTION = {
    "checkout": checkout_completed(
        "evt_checkout", mode="subscription", invoice="in_1", payment_intent=None, metadata={"referral_code": "anna20"}
    ),
    "invoice": invoice_paid(
        "evt_invoice", invoice_id="in_1", payment_intent="pi_1", amount_paid=10000, billing_reason="subscription_create"
    ),
    "refund": charge_refunded("evt_refund", payment_intent="pi_1", refunds=[("re_1", 2500)]),
}


@pytest.mark.parametrize("order", list(permutations(SUBSCRIPTION)), ids="-then-".join)
def test_a_subscriptions_first_invoice_earns_once_and_its_refund_reverses_whatever_the_order(
    stripe_connected, partner, order
):
    deliver_one_by_one(stripe_connected, [SUBSCRIPTION[name] for name in order])

    assert sale_commissions(stripe_connected) == [(partner.pk, Decimal("20.00"), Decimal("5.00"))]
    assert Conversion.objects.for_workspace(stripe_connected).get(kind="sale").amount == Decimal("100.00")
    assert (
        not InboundEvent.objects.for_workspace(stripe_connected)
        .filter(status__in=["received", "unattributed"])
        .exists()
    )


def test_a_first_invoice_paid_before_the_checkout_naming_its_click_is_credited_to_the_clicks_partner(
    stripe_connected, partner
):
    click = click_of(partner, at=CHECKOUT_AT - timedelta(hours=1))
    deliver_one_by_one(
        stripe_connected,
        [
            invoice_paid("evt_invoice", invoice_id="in_1", payment_intent="pi_1", amount_paid=4900),
            checkout_completed(
                "evt_checkout",
                mode="subscription",
                invoice="in_1",
                payment_intent=None,
                metadata={"tclid": click.click_id},
            ),
        ],
    )
    assert sale_commissions(stripe_connected) == [(partner.pk, Decimal("9.80"), Decimal("0"))]


def test_a_sale_long_before_the_customer_was_referred_stays_without_partner(stripe_connected, partner):
    deliver_one_by_one(
        stripe_connected,
        [
            invoice_paid("evt_old", invoice_id="in_0", payment_intent="pi_0", paid_at=1_750_000_000 - 10 * 86_400),
            checkout_completed(
                "evt_checkout",
                mode="subscription",
                invoice="in_1",
                payment_intent=None,
                metadata={"referral_code": "anna20"},
            ),
        ],
    )
    assert sale_commissions(stripe_connected) == []
    assert InboundEvent.objects.get(event_id="stripe:evt_old").reason_code == "no_partner"


ONE_OFF = {
    "checkout": checkout_completed(
        "evt_checkout",
        mode="payment",
        payment_intent="pi_9",
        invoice=None,
        amount_total=10000,
        metadata={"referral_code": "anna20"},
    ),
    "invoice": invoice_paid("evt_invoice", invoice_id="in_9", payment_intent="pi_9", amount_paid=10000),
}


@pytest.mark.parametrize("order", list(permutations(ONE_OFF)), ids="-then-".join)
def test_a_one_off_payment_reported_twice_is_credited_once_whatever_the_order(stripe_connected, partner, order):
    deliver_one_by_one(stripe_connected, [ONE_OFF[name] for name in order])

    assert sale_commissions(stripe_connected) == [(partner.pk, Decimal("20.00"), Decimal("0"))]
    assert Conversion.objects.for_workspace(stripe_connected).filter(kind="sale").count() == 1
