"""Fixtures of the attribution tests: a program with partners, and a way to push events through the inbox."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from attribution.inbox import IncomingEvent, accept_events
from attribution.processing import ProcessResult, process_pending
from partners.services import ensure_default_program
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import ClickFactory, LinkFactory

JAN = datetime(2026, 1, 15, 12, tzinfo=UTC)


@pytest.fixture
def program(workspace):
    """`workspace`'s Default program: USD, 90-day window, last click, 30-day hold, no reward rule yet."""
    return ensure_default_program(workspace=workspace)


@pytest.fixture
def anna(workspace, program):
    return PartnerFactory(workspace=workspace, program=program, name="Anna", email="anna@partner.test")


@pytest.fixture
def ben(workspace, program):
    return PartnerFactory(workspace=workspace, program=program, name="Ben", email="ben@partner.test")


def click_of(partner, *, at: datetime = JAN, **fields: Any):
    link = LinkFactory(workspace=partner.workspace, partner=partner, program=partner.program)
    return ClickFactory(link=link, workspace=partner.workspace, partner=partner, clicked_at=at, **fields)


def lead(event_id: str, customer: str, **fields: Any) -> IncomingEvent:
    fields.setdefault("occurred_at", JAN)
    return IncomingEvent(kind="lead", event_id=event_id, customer_external_id=customer, **fields)


def sale(event_id: str, customer: str, amount: str = "100.00", currency: str = "USD", **fields: Any) -> IncomingEvent:
    fields.setdefault("occurred_at", JAN)
    return IncomingEvent(
        kind="sale",
        event_id=event_id,
        customer_external_id=customer,
        amount=Decimal(amount),
        currency=currency,
        **fields,
    )


def refund(event_id: str, sale_event_id: str, amount: str | None = None, **fields: Any) -> IncomingEvent:
    fields.setdefault("occurred_at", JAN)
    return IncomingEvent(
        kind="refund",
        event_id=event_id,
        sale_event_id=sale_event_id,
        amount=Decimal(amount) if amount is not None else None,
        **fields,
    )


def send(workspace, *events: IncomingEvent) -> ProcessResult:
    """Accept the events as the API would, then process everything pending, synchronously."""
    accept_events(workspace=workspace, events=list(events), source="api")
    return process_pending(workspace=workspace)
