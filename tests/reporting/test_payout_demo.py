from __future__ import annotations

from datetime import UTC

from django.utils import timezone

from reporting.payouts.dates import default_period_end
from reporting.payouts.demo import seed_payouts
from reporting.payouts.models import PayoutPeriod, Statement
from tests.partners.factories import PartnerFactory
from tests.reporting.payout_helpers import earn


def test_the_payout_seed_skips_gracefully_without_approved_commissions(workspace):
    message = seed_payouts(workspace=workspace)

    assert "no approved commissions" in message
    assert not PayoutPeriod.objects.filter(workspace=workspace).exists()


def test_the_payout_seed_makes_a_paid_and_an_issued_period_and_is_safe_to_repeat(workspace):
    last_end = default_period_end(timezone.now().astimezone(UTC).date())
    before_end = default_period_end(last_end.replace(day=1))
    partner = PartnerFactory(workspace=workspace)
    earn(partner, "30.00", on=before_end.replace(day=3).isoformat())
    earn(partner, "40.00", on=last_end.replace(day=3).isoformat())

    seed_payouts(workspace=workspace)
    seed_payouts(workspace=workspace)

    statuses = dict(Statement.objects.filter(workspace=workspace).values_list("period__end", "status"))
    assert statuses == {before_end: "paid", last_end: "issued"}
