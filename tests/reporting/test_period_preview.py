"""Closing a payout period with a preview: the proposed end date, and the dry run shown before confirming."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from reporting.payouts.dates import suggested_period_end
from reporting.payouts.models import PayoutPeriod, Statement
from reporting.payouts.preview import preview_payout_period
from reporting.payouts.statements import close_payout_period
from tests.partners.factories import PartnerFactory, ProgramFactory, with_payout_method
from tests.reporting.payout_helpers import adjust, earn

pytestmark = pytest.mark.django_db

SEPT = date(2026, 9, 30)
TODAY = date(2026, 11, 24)


@pytest.fixture
def partners(workspace):
    """Alpha is owed 25.00, Beta 20.00 under a 50.00 minimum, Gamma owes 10.00 back."""
    alpha = with_payout_method(
        PartnerFactory(workspace=workspace, name="Alpha Agency"), "paypal", email="a@pay.example"
    )
    strict = ProgramFactory(workspace=workspace, name="Strict", minimum_payout=Decimal("50.00"))
    beta = PartnerFactory(workspace=workspace, program=strict, name="Beta Blog")
    gamma = PartnerFactory(workspace=workspace, name="Gamma Guides")
    earn(alpha, "25.00")
    earn(beta, "20.00")
    adjust(gamma, "-10.00", memo="Clawback")
    return alpha, beta, gamma


def test_the_preview_sorts_partners_into_paid_carried_over_and_blocked(workspace, partners):
    alpha, beta, gamma = partners

    preview = preview_payout_period(workspace=workspace, end=SEPT, today=TODAY)

    assert [(r.partner, r.amount) for r in preview.paid] == [(alpha, Decimal("25.00"))]
    assert [(r.partner, r.amount, r.minimum) for r in preview.carried] == [(beta, Decimal("20.00"), Decimal("50.00"))]
    assert [(r.partner, r.amount) for r in preview.blocked] == [(gamma, Decimal("-10.00"))]


def test_the_preview_totals_each_group_per_currency(workspace, partners):
    preview = preview_payout_period(workspace=workspace, end=SEPT, today=TODAY)

    assert [(t.currency, t.partners, t.amount) for t in preview.paid_totals] == [("USD", 1, Decimal("25.00"))]


def test_the_preview_writes_nothing(workspace, partners):
    preview_payout_period(workspace=workspace, end=SEPT, today=TODAY)

    assert not PayoutPeriod.objects.filter(workspace=workspace).exists()
    assert not Statement.objects.filter(workspace=workspace).exists()


def test_closing_issues_exactly_the_statements_the_preview_showed(workspace, partners):
    preview = preview_payout_period(workspace=workspace, end=SEPT, today=TODAY)

    closed = close_payout_period(workspace=workspace, end=SEPT, today=TODAY)

    assert [(s.partner_id, s.currency, s.total) for s in closed.statements] == [
        (r.partner.pk, r.currency, r.amount) for r in preview.paid
    ]
    assert closed.period.carried_partner_count == len(preview.carried) + len(preview.blocked)


def test_the_preview_refuses_a_day_that_is_not_over_with_the_closes_message(workspace, partners):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="only be closed once it is over"):
        preview_payout_period(workspace=workspace, end=TODAY, today=TODAY)


def test_the_proposed_end_is_the_end_of_the_last_full_month(workspace):
    assert suggested_period_end(workspace=workspace, today=date(2026, 12, 7)) == date(2026, 11, 30)


def test_the_proposed_end_is_never_a_period_already_closed(workspace):
    close_payout_period(workspace=workspace, end=date(2026, 11, 30), today=date(2026, 12, 7))

    assert suggested_period_end(workspace=workspace, today=date(2026, 12, 7)) is None


def test_the_proposed_end_skips_to_the_last_full_month_after_older_closed_periods(workspace):
    close_payout_period(workspace=workspace, end=SEPT, today=date(2026, 12, 7))

    assert suggested_period_end(workspace=workspace, today=date(2026, 12, 7)) == date(2026, 11, 30)


# --- The page -----------------------------------------------------------------------------


def test_finance_sees_who_would_be_paid_carried_and_blocked_before_closing(finance_client, workspace, partners):
    page = finance_client.get(f"/w/{workspace.slug}/payouts/", {"end": "2026-09-30"}).content.decode()

    assert "Alpha Agency" in page and "Beta Blog" in page and "Gamma Guides" in page
    assert "Close period and issue 1 statement" in page
    assert not PayoutPeriod.objects.filter(workspace=workspace).exists()


def test_the_htmx_preview_answers_only_the_close_form(finance_client, workspace, partners):
    response = finance_client.get(
        f"/w/{workspace.slug}/payouts/", {"end": "2026-09-30"}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Agency" in body and "<html" not in body and "Closed periods" not in body


def test_today_is_refused_next_to_the_field_before_submitting(finance_client, workspace):
    today = timezone.now().date()

    response = finance_client.get(
        f"/w/{workspace.slug}/payouts/", {"end": today.isoformat()}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200  # htmx swaps only a 2xx
    assert "only be closed once it is over" in str(response.context["form"].errors["end"])


def test_the_date_field_does_not_offer_today(finance_client, workspace):
    page = finance_client.get(f"/w/{workspace.slug}/payouts/").content.decode()

    yesterday = timezone.now().date() - timedelta(days=1)
    assert f'max="{yesterday.isoformat()}"' in page


def test_a_manager_may_not_preview_a_close(manager_client, workspace, partners):
    assert manager_client.get(f"/w/{workspace.slug}/payouts/", {"end": "2026-09-30"}).status_code == 403


def test_an_outsider_gets_404_for_the_preview(outsider_client, workspace, partners):
    assert outsider_client.get(f"/w/{workspace.slug}/payouts/", {"end": "2026-09-30"}).status_code == 404
