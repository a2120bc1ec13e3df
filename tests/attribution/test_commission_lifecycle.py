"""Pending → approved when the hold ends (or a manager says so), rejected with a reason, and the ledger follows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from attribution.ledger import partner_balance
from attribution.models import Commission, LedgerEntry
from attribution.services import approve_commissions, reject_commissions
from attribution.tasks import approve_due_commissions
from tests.attribution.conftest import JAN, lead, refund, sale, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "100.00"))
    return Commission.objects.for_workspace(workspace).get()


def test_the_beat_task_approves_commissions_whose_hold_has_ended(workspace, pending):
    Commission.objects.filter(pk=pending.pk).update(hold_until=JAN)
    assert approve_due_commissions() == 1
    pending.refresh_from_db()
    assert pending.status == "approved" and pending.approved_at is not None


def test_the_beat_task_leaves_commissions_still_on_hold(workspace, pending):
    Commission.objects.filter(pk=pending.pk).update(hold_until=pending.created_at + timedelta(days=3650))
    assert approve_due_commissions() == 0


def test_a_manager_may_approve_before_the_hold_ends(workspace, pending, manager):
    Commission.objects.filter(pk=pending.pk).update(hold_until=pending.created_at + timedelta(days=3650))
    assert approve_commissions(workspace=workspace, ids=[pending.pk], by=manager) == [pending.pk]


def test_another_workspaces_commission_is_not_approved(other_workspace, pending):
    assert approve_commissions(workspace=other_workspace, ids=[pending.pk], by=None) == []


def test_rejecting_takes_back_what_the_partner_still_had(workspace, anna, pending, manager):
    send(workspace, refund("r1", "s1", "25.00"))
    reject_commissions(workspace=workspace, ids=[pending.pk], reason="Duplicate order", by=manager)
    pending.refresh_from_db()
    assert (pending.status, pending.rejection_reason) == ("rejected", "Duplicate order")
    entry = LedgerEntry.objects.for_workspace(workspace).get(kind="commission_rejected")
    assert entry.amount == Decimal("-15.00")
    assert partner_balance(workspace=workspace, partner=anna) == {"USD": Decimal("0")}


def test_rejecting_needs_a_reason(workspace, pending, manager):
    with pytest.raises(ValidationError):
        reject_commissions(workspace=workspace, ids=[pending.pk], reason="  ", by=manager)


def test_a_paid_commission_cannot_be_rejected(workspace, pending, manager):
    Commission.objects.filter(pk=pending.pk).update(status="paid")
    assert reject_commissions(workspace=workspace, ids=[pending.pk], reason="Late", by=manager) == []


def test_every_partners_balance_is_the_sum_of_its_entries_and_of_its_commissions(workspace, anna, ben):
    send(
        workspace,
        lead("l1", "cus_1", partner_id=anna.pk),
        lead("l2", "cus_2", partner_id=ben.pk),
        sale("s1", "cus_1", "80.00"),
        sale("s2", "cus_2", "60.00"),
        sale("s3", "cus_1", "10.00"),
        refund("r1", "s1", "20.00"),
    )
    for partner in (anna, ben):
        entries = sum(
            LedgerEntry.objects.for_workspace(workspace).filter(partner=partner).values_list("amount", flat=True)
        )
        net = sum(c.net_amount for c in Commission.objects.for_workspace(workspace).filter(partner=partner))
        assert partner_balance(workspace=workspace, partner=partner)["USD"] == entries == net
