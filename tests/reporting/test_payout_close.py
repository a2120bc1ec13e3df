from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from attribution.ledger import partner_balance
from attribution.models import Commission
from reporting.payouts.dates import default_period_end
from reporting.payouts.models import PayoutPeriod, Statement, StatementLine
from reporting.payouts.statements import close_payout_period, mark_statements_paid
from tests.partners.factories import PartnerFactory, ProgramFactory
from tests.reporting.payout_helpers import adjust, earn, refund

SEPT = date(2026, 9, 30)
OCT = date(2026, 10, 31)


@pytest.fixture
def partner(workspace):
    return PartnerFactory(workspace=workspace, name="Alpha Agency")


def close(workspace, end=SEPT):
    return close_payout_period(workspace=workspace, end=end, today=date(2026, 11, 24))


def test_the_default_period_end_is_the_last_day_of_the_previous_month():
    assert default_period_end(date(2026, 3, 15)) == date(2026, 2, 28)


def test_a_statement_totals_the_sum_of_its_lines_and_the_partners_ledger_balance(workspace, partner):
    earn(partner, "20.00")
    earn(partner, "12.50", on="2026-09-20")
    adjust(partner, "5.00")

    statement = close(workspace).statements[0]

    assert statement.total == Decimal("37.50")
    assert statement.total == sum(line.amount for line in statement.lines.all())
    assert statement.total == statement.ledger_balance == partner_balance(workspace=workspace, partner=partner)["USD"]
    assert (statement.commission_total, statement.adjustment_total) == (Decimal("32.50"), Decimal("5.00"))


def test_closing_issues_one_statement_per_partner_and_currency(workspace, partner):
    other = PartnerFactory(workspace=workspace)
    earn(partner, "10.00")
    earn(partner, "10.00", currency="EUR")
    earn(other, "10.00")

    statements = close(workspace).statements

    assert sorted((s.partner_id, s.currency) for s in statements) == sorted(
        [(partner.pk, "USD"), (partner.pk, "EUR"), (other.pk, "USD")]
    )


def test_pending_commissions_and_sales_after_the_period_end_stay_off_the_statement(workspace, partner):
    earn(partner, "10.00")
    earn(partner, "99.00", status=Commission.Status.PENDING)
    earn(partner, "77.00", on="2026-10-01")

    assert close(workspace).statements[0].total == Decimal("10.00")


def test_a_partner_under_the_program_minimum_is_skipped_and_carried_to_the_next_period(workspace):
    program = ProgramFactory(workspace=workspace, minimum_payout=Decimal("50.00"))
    partner = PartnerFactory(workspace=workspace, program=program)
    first = earn(partner, "30.00")

    september = close(workspace)
    earn(partner, "25.00", on="2026-10-05")
    october = close(workspace, OCT)

    assert september.statements == [] and september.period.carried_partner_count == 1
    statement = october.statements[0]
    assert statement.total == Decimal("55.00")
    carried = statement.lines.get(commission=first)
    assert carried.carried is True


def test_a_refund_after_payout_is_a_negative_carried_line_next_period(workspace, partner):
    commission = earn(partner, "40.00")
    september = close(workspace).statements[0]
    mark_statements_paid(workspace=workspace, statement_ids=[september.pk])
    refund(commission, "10.00", on="2026-10-03")
    earn(partner, "30.00", on="2026-10-12")

    october = close(workspace, OCT).statements[0]

    line = october.lines.get(kind=StatementLine.Kind.REVERSAL)
    assert line.amount == Decimal("-10.00") and line.carried
    assert september.number in line.description
    assert october.total == Decimal("20.00") == partner_balance(workspace=workspace, partner=partner)["USD"]


def test_a_negative_balance_gets_no_statement_and_carries_until_earnings_cover_it(workspace, partner):
    commission = earn(partner, "40.00")
    mark_statements_paid(workspace=workspace, statement_ids=[close(workspace).statements[0].pk])
    refund(commission, "40.00", on="2026-10-03")

    october = close(workspace, OCT)
    earn(partner, "50.00", on="2026-11-02")
    november = close_payout_period(workspace=workspace, end=date(2026, 11, 30), today=date(2026, 12, 2))

    assert october.statements == [] and october.period.carried_partner_count == 1
    assert november.statements[0].total == Decimal("10.00")


def test_an_issued_statement_does_not_change_when_its_commission_changes_later(workspace, partner):
    commission = earn(partner, "40.00")
    statement = close(workspace).statements[0]
    refund(commission, "15.00", on="2026-10-02")
    commission.partner.name = "Renamed Agency"
    commission.partner.save(update_fields=["name"])

    statement.refresh_from_db()
    line = statement.lines.get()
    assert (statement.total, line.amount, statement.partner_name) == (
        Decimal("40.00"),
        Decimal("40.00"),
        "Alpha Agency",
    )


def test_closing_the_same_end_twice_returns_the_same_period_and_issues_nothing_more(workspace, partner):
    earn(partner, "20.00")
    first = close(workspace)
    earn(partner, "20.00", on="2026-09-10")  # arrives late; it belongs to the next period's close

    second = close(workspace)

    assert second.created is False and second.period == first.period
    assert Statement.objects.filter(workspace=workspace).count() == 1
    assert PayoutPeriod.objects.filter(workspace=workspace).count() == 1


def test_a_period_ending_before_a_closed_one_is_refused_as_overlapping(workspace, partner):
    close(workspace, OCT)

    with pytest.raises(ValidationError, match="cannot overlap"):
        close(workspace, SEPT)


def test_a_period_that_is_not_over_yet_cannot_be_closed(workspace):
    with pytest.raises(ValidationError, match="once it is over"):
        close_payout_period(workspace=workspace, end=date(2026, 11, 30), today=date(2026, 11, 24))


def test_the_next_period_starts_the_day_after_the_previous_end(workspace):
    close(workspace)

    assert close(workspace, OCT).period.start == date(2026, 10, 1)


def test_a_commission_reversed_in_part_before_the_close_shows_the_refund_on_the_same_statement(workspace, partner):
    commission = earn(partner, "40.00")
    refund(commission, "10.00", on="2026-09-20")

    statement = close(workspace).statements[0]

    assert [line.kind for line in statement.lines.all()] == ["commission", "reversal"]
    assert statement.total == Decimal("30.00")


def test_a_commission_rejected_after_its_statement_is_taken_back_on_the_next_one(workspace, partner):
    from attribution.services import reject_commissions

    commission = earn(partner, "40.00")
    september = close(workspace).statements[0]
    reject_commissions(workspace=workspace, ids=[commission.pk], reason="Self-referral", by=None)
    earn(partner, "50.00", on="2026-10-12")

    october = close(workspace, OCT).statements[0]

    line = october.lines.get(kind=StatementLine.Kind.REJECTION)
    assert line.amount == Decimal("-40.00") and line.carried and september.number in line.description
    assert "Self-referral" in line.description
    assert october.total == Decimal("10.00") and october.reversal_total == Decimal("-40.00")


def test_a_commission_rejected_before_any_statement_shows_nowhere(workspace, partner):
    from attribution.services import reject_commissions

    rejected = earn(partner, "40.00")
    earn(partner, "15.00")
    reject_commissions(workspace=workspace, ids=[rejected.pk], reason="Duplicate order", by=None)

    statement = close(workspace).statements[0]

    assert [line.amount for line in statement.lines.all()] == [Decimal("15.00")]


def test_pending_commissions_count_in_the_ledger_balance_but_not_on_the_statement(workspace, partner):
    earn(partner, "10.00")
    earn(partner, "99.00", status=Commission.Status.PENDING)

    statement = close(workspace).statements[0]

    assert (statement.total, statement.ledger_balance) == (Decimal("10.00"), Decimal("109.00"))
