"""The batch endpoint reads plain events without pydantic: it must mean exactly what the schema means."""

from __future__ import annotations

from typing import Any

import pytest

from attribution.api import SCHEMAS, _fast_event, to_event

SALE = {
    "type": "sale",
    "event_id": "ord_1",
    "customer_external_id": "cus_1",
    "amount": "49.99",
    "currency": "usd",
    "occurred_at": "2026-01-15T10:30:00.250+01:00",
}

# Events the fast path takes: it must build what the schema builds.
PLAIN: list[dict[str, Any]] = [
    SALE,
    {**SALE, "occurred_at": "2026-01-15T10:30:00Z", "click_id": "tc_1", "code": None, "customer_email": "A@B.org"},
    {**SALE, "amount": "100", "currency": " eur "},
    {"type": "refund", "event_id": "re_1", "sale_event_id": "ord_1"},
    {"type": "refund", "event_id": "re_1", "sale_event_id": "ord_1", "amount": "5.00", "currency": "USD"},
    {"type": "lead", "event_id": "l_1", "customer_external_id": "cus_1", "partner_id": 7},
]

# Events it leaves to the schema (which accepts some of them, refuses others, with its own messages).
UNUSUAL: list[dict[str, Any]] = [
    {**SALE, "amount": 49.99},
    {**SALE, "amount": "forty"},
    {**SALE, "amount": "NaN"},
    {**SALE, "amount": " 1E+2 "},  # issue 11: money as sent or refused, never reinterpreted
    {**SALE, "currency": "US"},
    {**SALE, "amout": "1.00"},
    {**SALE, "event_id": ""},
    {**SALE, "event_id": 12},
    {**SALE, "event_id": "x" * 201},
    {**SALE, "occurred_at": "2026-01-15"},
    {**SALE, "occurred_at": "2026-01-15 10:30:00"},
    {**SALE, "occurred_at": 1768473000},
    {**SALE, "occurred_at": "2026-02-30T10:30:00Z"},
    {**SALE, "click_id": ""},
    {key: value for key, value in SALE.items() if key != "amount"},
    {"type": "lead", "customer_external_id": "cus_1", "partner_id": 7},
    {"type": "lead", "event_id": "l_1", "customer_external_id": "cus_1", "partner_id": True},
    {"type": "refund", "event_id": "re_1", "sale_event_id": "ord_1", "partner_id": 1},
]


def _by_schema(item: dict[str, Any]):
    data = SCHEMAS[item["type"]].model_validate({k: v for k, v in item.items() if k != "type"})
    return to_event(item["type"], data)


@pytest.mark.parametrize("item", PLAIN)
def test_a_plain_event_is_read_as_its_schema_reads_it(item):
    fast = _fast_event(item["type"], item)
    assert fast is not None
    assert fast == _by_schema(item)
    assert fast.occurred_at == _by_schema(item).occurred_at


@pytest.mark.parametrize("item", UNUSUAL)
def test_anything_unusual_is_left_to_the_schema(item):
    assert _fast_event(item["type"], item) is None
