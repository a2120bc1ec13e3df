"""Values that are awkward in an array literal reach PostgreSQL, and come back, exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from attribution.models import Commission, Conversion, InboundEvent
from core.arrays import text_array
from core.sql import fetch_rows
from tests.attribution.conftest import lead, sale, send
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

AWKWARD = ['say "hi"', "back\\slash", "NULL", "", "a,b{c}", "ünï €", " padded ", 'x\\"y']


def test_strings_with_quotes_backslashes_and_braces_survive_the_array_literal():
    values = [*AWKWARD, None]
    assert fetch_rows("SELECT %t::text[]", [text_array(values)])[0][0] == values
    for same_kind in (["plain", "", "also plain"], ["back\\slash", "c:\\dir\\"], ['"quoted"', 'x"']):
        assert fetch_rows("SELECT %t::text[]", [text_array(same_kind)])[0][0] == same_kind
    assert fetch_rows("SELECT %t::bigint[]", [text_array([1, 22, 333])])[0][0] == [1, 22, 333]


def test_awkward_event_and_customer_ids_are_stored_and_processed_exactly(workspace, program):
    partner = PartnerFactory(workspace=workspace, program=program, name='Ann "The Closer" \\ Co')
    events = []
    for index, text in enumerate(AWKWARD[:3] + AWKWARD[4:]):  # an empty id is refused by validation
        events += [
            lead(f"lead {text}", f"cust {text}", partner_id=partner.pk),
            sale(f"sale {text}", f"cust {text}", f"{index + 1}0.00"),
        ]
    send(workspace, *events)

    stored = InboundEvent.objects.for_workspace(workspace)
    # Ids are stored trimmed, as the API documents.
    assert sorted(stored.values_list("event_id", flat=True)) == sorted(e.event_id.strip() for e in events)
    assert set(stored.values_list("status", flat=True)) == {InboundEvent.Status.ATTRIBUTED}
    sales = Conversion.objects.for_workspace(workspace).filter(kind="sale")
    assert sorted(sales.values_list("event_id", flat=True)) == sorted(
        e.event_id.strip() for e in events if e.kind == "sale"
    )
    commission = Commission.objects.for_workspace(workspace).get(conversion__event_id='sale say "hi"')
    assert commission.amount == Decimal("2.00")
    assert commission.explanation["attribution"]["partner"]["name"] == 'Ann "The Closer" \\ Co'
    assert commission.explanation["sale"] == {
        "event_id": 'sale say "hi"',
        "amount": "10.00",
        "currency": "USD",
        "occurred_at": "2026-01-15T12:00:00+00:00",
    }


def test_times_read_by_the_set_helpers_are_aware_utc():
    ((moment,),) = fetch_rows("SELECT %s::timestamptz", [datetime(2026, 1, 15, 12, 30, tzinfo=UTC)])
    assert moment == datetime(2026, 1, 15, 12, 30, tzinfo=UTC)
    assert moment.utcoffset().total_seconds() == 0
