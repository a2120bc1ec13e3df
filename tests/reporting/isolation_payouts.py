"""The payouts part of reporting's isolation registry (see tests/isolation.py); merged into isolation.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import timezone

from accounts.models import Workspace
from reporting.payouts.models import PayoutPeriod, Statement
from tests.partners.factories import PartnerFactory


def foreign_period(workspace: Workspace) -> PayoutPeriod:
    period, _ = PayoutPeriod.objects.get_or_create(
        workspace=workspace, end=date(2026, 9, 30), defaults={"closed_at": timezone.now()}
    )
    return period


def foreign_statement(workspace: Workspace) -> Statement:
    partner = PartnerFactory(workspace=workspace)
    return Statement.objects.create(
        workspace=workspace,
        period=foreign_period(workspace),
        partner=partner,
        number=f"ST-ISO-{partner.pk}",
        currency="USD",
        commission_total=Decimal("10"),
        reversal_total=Decimal("0"),
        adjustment_total=Decimal("0"),
        total=Decimal("10"),
        line_count=0,
        partner_name=partner.name,
        partner_email=partner.email,
        program_name=partner.program.name,
        issued_at=timezone.now(),
    )


FOREIGN_PARAMS = {
    "period_id": lambda workspace: foreign_period(workspace).pk,
    "statement_id": lambda workspace: foreign_statement(workspace).pk,
}
