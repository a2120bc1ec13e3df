"""A sale in another currency than the program's is converted with the workspace's rate for the day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from attribution.models import Commission, Conversion, InboundEvent
from attribution.processing import process_pending
from attribution.services import add_exchange_rate
from tests.attribution.conftest import lead, refund, sale, send
from tests.attribution.factories import ExchangeRateFactory

pytestmark = pytest.mark.django_db


def test_a_sale_in_euros_is_converted_at_the_days_rate(workspace, anna):
    ExchangeRateFactory(
        workspace=workspace, date=date(2026, 1, 15), from_currency="EUR", to_currency="USD", rate=Decimal("1.1")
    )
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "100.00", currency="EUR"))
    conversion = Conversion.objects.for_workspace(workspace).get()
    assert (conversion.amount, conversion.currency, conversion.original_amount, conversion.original_currency) == (
        Decimal("110.00"),
        "USD",
        Decimal("100.00"),
        "EUR",
    )
    assert Commission.objects.for_workspace(workspace).get().amount == Decimal("22.00")


def test_without_a_rate_the_sale_waits_unattributed_and_adding_the_rate_retries_it(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "100.00", currency="EUR"))
    waiting = InboundEvent.objects.for_workspace(workspace).get(event_id="s1")
    assert (waiting.status, waiting.reason_code) == ("unattributed", "no_exchange_rate")
    assert "EUR→USD for 2026-01-15" in waiting.reason

    add_exchange_rate(
        workspace=workspace, day=date(2026, 1, 15), from_currency="eur", to_currency="usd", rate=Decimal("1.2"), by=None
    )
    process_pending(workspace=workspace)
    assert Commission.objects.for_workspace(workspace).get().amount == Decimal("24.00")


def test_a_refund_of_a_converted_sale_uses_the_sales_rate(workspace, anna):
    ExchangeRateFactory(workspace=workspace, from_currency="EUR", to_currency="USD", rate=Decimal("1.1"))
    send(
        workspace,
        lead("l1", "cus_1", partner_id=anna.pk),
        sale("s1", "cus_1", "100.00", currency="EUR"),
        refund("r1", "s1", "50.00", currency="EUR"),
    )
    returned = Conversion.objects.for_workspace(workspace).get(kind="refund")
    assert (returned.amount, returned.original_amount) == (Decimal("55.00"), Decimal("50.00"))
    assert Commission.objects.for_workspace(workspace).get().reversed_amount == Decimal("11.00")


def test_a_different_rate_for_a_day_that_has_one_is_refused(workspace):
    add_exchange_rate(
        workspace=workspace, day=date(2026, 1, 15), from_currency="EUR", to_currency="USD", rate=Decimal("1.1"), by=None
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already"):
        add_exchange_rate(
            workspace=workspace,
            day=date(2026, 1, 15),
            from_currency="EUR",
            to_currency="USD",
            rate=Decimal("1.3"),
            by=None,
        )
