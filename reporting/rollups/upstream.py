"""The names the rollup SQL reads from the apps upstream, taken from their models.

The rollups are plain SQL over referrals', attribution's and partners' tables. Rather than spell
those apps' table names and choice values as strings, the SQL is formatted once, at import, with
`tables` and `choices` below, so the SQL follows a renamed table or choice value (and
tests/reporting/test_rollup_upstream.py fails if a status the rollups total is renamed away).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from attribution.models import Commission, CommissionReversal, Conversion, InboundEvent
from partners.models import Program
from referrals.models import Click, DealRegistration, Link, Referral, ReferralCode

_PLAIN = re.compile(r"^[a-z0-9_]+$")


def _literal(value: str) -> str:
    """A choice value as an SQL string literal. Only plain identifiers are accepted, so no quoting
    can go wrong: these come from code, never from a request."""
    if not _PLAIN.match(value):
        raise ValueError(f"not a plain choice value: {value!r}")
    return f"'{value}'"


def _table(model: type) -> str:
    name: str = model._meta.db_table  # type: ignore[attr-defined]
    if not _PLAIN.match(name):
        raise ValueError(f"not a plain table name: {name!r}")
    return name


@dataclass(frozen=True)
class Tables:
    click: str = _table(Click)
    link: str = _table(Link)
    referral_code: str = _table(ReferralCode)
    referral: str = _table(Referral)
    deal_registration: str = _table(DealRegistration)
    conversion: str = _table(Conversion)
    commission: str = _table(Commission)
    commission_reversal: str = _table(CommissionReversal)
    inbound_event: str = _table(InboundEvent)
    program: str = _table(Program)


@dataclass(frozen=True)
class Choices:
    """Choice values as SQL literals, e.g. `'sale'`."""

    sale: str = _literal(Conversion.Kind.SALE)
    refund: str = _literal(Conversion.Kind.REFUND)
    # Reversed commissions are counted through their reversed_amount, whatever their status.
    pending: str = _literal(Commission.Status.PENDING)
    # Held for fraud review: not yet earned, counted with the pending ones.
    in_review: str = _literal(Commission.Status.IN_REVIEW)
    approved: str = _literal(Commission.Status.APPROVED)
    paid: str = _literal(Commission.Status.PAID)
    rejected: str = _literal(Commission.Status.REJECTED)
    # Clicks always come through a link: their rows carry the referral source "link".
    source_link: str = _literal(Referral.Source.LINK)
    source_manual: str = _literal(Referral.Source.MANUAL)
    # Backfilled leads are found through their attributed lead event.
    event_attributed: str = _literal(InboundEvent.Status.ATTRIBUTED)
    event_lead: str = _literal(InboundEvent.Kind.LEAD)


tables = Tables()
choices = Choices()
