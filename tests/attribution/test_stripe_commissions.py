"""Stripe deliveries, shuffled and repeated, end as the right commissions under the default rule (20%)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.test import Client

from attribution.models import Commission, Conversion
from attribution.processing import process_pending
from referrals.models import ReferralCode
from tests.attribution.integration_helpers import (
    charge_refunded,
    checkout_completed,
    invoice_paid,
    post_stripe,
    stripe_connected,  # noqa: F401 - fixture
)
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(stripe_connected):
    partner = PartnerFactory(workspace=stripe_connected)
    ReferralCode.objects.create(workspace=stripe_connected, program=partner.program, partner=partner, code="ANNA20")
    return partner


def test_shuffled_repeated_stripe_events_earn_twenty_percent_less_the_refund(stripe_connected, partner):
    deliveries = [
        checkout_completed("evt_a", metadata={"referral_code": "anna20"}, payment_intent="pi_a", amount_total=10000),
        invoice_paid("evt_b", invoice_id="in_b", payment_intent="pi_b", amount_paid=4900),
        charge_refunded("evt_c", payment_intent="pi_a", refunds=[("re_c", 2500)]),
        charge_refunded("evt_d", payment_intent="pi_a", refunds=[("re_c", 2500)], previous_refunded=0),
    ]
    sends = deliveries + deliveries[:2]
    random.Random(3).shuffle(sends)
    client = Client()
    for event in sends:
        assert post_stripe(client, "acme", event).status_code == 200

    process_pending(workspace=stripe_connected)

    sales = {c.processor_ref: c for c in Conversion.objects.for_workspace(stripe_connected).filter(kind="sale")}
    assert {ref: c.amount for ref, c in sales.items()} == {
        "stripe:pi_a": Decimal("100.00"),
        "stripe:pi_b": Decimal("49.00"),
    }
    commissions = {
        c.conversion.processor_ref: c for c in Commission.objects.for_workspace(stripe_connected).filter(kind="sale")
    }
    assert {ref: (c.partner_id, c.amount, c.reversed_amount) for ref, c in commissions.items()} == {
        "stripe:pi_a": (partner.pk, Decimal("20.00"), Decimal("5.00")),
        "stripe:pi_b": (partner.pk, Decimal("9.80"), Decimal("0")),
    }
    refunds = Conversion.objects.for_workspace(stripe_connected).filter(kind="refund")
    assert [(r.event_id, r.amount, r.sale.processor_ref) for r in refunds] == [
        ("stripe:re_c", Decimal("25.00"), "stripe:pi_a")
    ]
