"""Refunds take back commissions in proportion, whatever order they arrive in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from attribution.ledger import partner_balance
from attribution.models import Commission, CommissionReversal, InboundEvent, LedgerEntry
from attribution.services import approve_commissions
from tests.attribution.conftest import lead, refund, sale, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(workspace, anna):
    """cus_1 is Anna's referral and bought for 100.00 USD: a 20.00 commission."""
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "100.00"))
    return Commission.objects.for_workspace(workspace).get()


def commission(workspace):
    return Commission.objects.for_workspace(workspace).get()


def test_a_partial_refund_reverses_the_commission_in_proportion(workspace, anna, sold):
    send(workspace, refund("r1", "s1", "25.00"))
    assert (commission(workspace).reversed_amount, commission(workspace).status) == (Decimal("5.00"), "pending")
    assert partner_balance(workspace=workspace, partner=anna) == {"USD": Decimal("15.00")}


def test_partial_refunds_adding_up_to_the_sale_reverse_it_fully(workspace, anna, sold):
    send(workspace, refund("r1", "s1", "33.33"), refund("r2", "s1", "33.33"), refund("r3", "s1", "33.34"))
    assert (commission(workspace).reversed_amount, commission(workspace).status) == (Decimal("20.00"), "reversed")
    assert partner_balance(workspace=workspace, partner=anna) == {"USD": Decimal("0")}


def test_a_refund_without_amount_refunds_what_is_left(workspace, anna, sold):
    send(workspace, refund("r1", "s1", "40.00"), refund("r2", "s1"))
    assert commission(workspace).reversed_amount == Decimal("20.00")


def test_a_refund_beyond_the_sale_never_reverses_more_than_the_commission(workspace, anna, sold):
    send(workspace, refund("r1", "s1", "500.00"), refund("r2", "s1", "10.00"))
    assert commission(workspace).reversed_amount == Decimal("20.00")
    assert InboundEvent.objects.for_workspace(workspace).get(event_id="r2").reason_code == "already_refunded"
    assert sum(r.amount for r in CommissionReversal.objects.for_workspace(workspace)) == Decimal("20.00")


def test_a_refund_before_its_sale_waits_and_is_applied_when_the_sale_arrives(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), refund("r1", "s1", "50.00"))
    waiting = InboundEvent.objects.for_workspace(workspace).get(event_id="r1")
    assert (waiting.status, waiting.reason) == ("received", "Waiting for sale s1.")
    send(workspace, sale("s1", "cus_1", "100.00"))
    assert InboundEvent.objects.for_workspace(workspace).get(event_id="r1").status == "attributed"
    assert commission(workspace).reversed_amount == Decimal("10.00")


def test_a_refund_of_an_unattributed_sale_is_unattributed_too(workspace, anna):
    send(workspace, sale("s1", "cus_nobody"), refund("r1", "s1"))
    assert InboundEvent.objects.for_workspace(workspace).get(event_id="r1").reason_code == "sale_unattributed"


def test_a_refund_after_payout_leaves_a_negative_entry_and_the_commission_paid(workspace, anna, sold):
    Commission.objects.filter(pk=sold.pk).update(status=Commission.Status.PAID)
    send(workspace, refund("r1", "s1"))
    paid = commission(workspace)
    assert (paid.status, paid.reversed_amount) == ("paid", Decimal("20.00"))
    entry = LedgerEntry.objects.for_workspace(workspace).filter(kind="commission_reversed").get()
    assert entry.amount == Decimal("-20.00")


def test_an_approved_commission_is_still_reversed_by_a_refund(workspace, anna, sold):
    approve_commissions(workspace=workspace, ids=[sold.pk], by=None)
    send(workspace, refund("r1", "s1"))
    assert commission(workspace).status == "reversed"


def test_a_refund_may_name_the_sale_by_its_processor_id(workspace, anna):
    send(
        workspace,
        lead("l1", "cus_1", partner_id=anna.pk),
        sale("s1", "cus_1", processor_ref="stripe:pi_9"),
        refund("r1", "stripe:pi_9", "50.00"),
    )
    assert commission(workspace).reversed_amount == Decimal("10.00")
