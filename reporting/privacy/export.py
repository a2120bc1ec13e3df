"""Everything Tandem holds about one customer or one partner, as a zip of JSON and CSV files: one
`<table>.csv` per kind of row, and `data.json` with all of them (GDPR articles 15 and 20)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from accounts.models import Workspace
from attribution.models import Commission, CommissionReversal, Conversion, InboundEvent
from partners.models import Partner, PartnerUser
from referrals.models import Click, DealRegistration, Link, Referral, ReferralCode
from reporting.models import Payout, Statement, StatementLine
from reporting.privacy.erasure import CustomerNotFound

# Never exported: secrets, and ciphertext that means nothing outside Tandem.
_LEFT_OUT = frozenset({"payout_details", "details", "tax_details", "password"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(queryset: QuerySet[Any], fields: Iterable[str] | None = None) -> list[dict[str, Any]]:
    model: type[Model] = queryset.model
    names = (
        list(fields)
        if fields
        else [f.attname for f in model._meta.concrete_fields if f.attname not in _LEFT_OUT and not f.primary_key] or []
    )
    if not fields and model._meta.pk is not None and model._meta.pk.concrete:
        names.insert(0, model._meta.pk.attname)
    return [{k: _plain(v) for k, v in row.items()} for row in queryset.values(*names)]


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()})
    return buffer.getvalue()


def _zip(about: dict[str, Any], tables: dict[str, list[dict[str, Any]]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps({**about, **tables}, indent=2, ensure_ascii=False))
        for name, rows in tables.items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()


def customer_export(*, workspace: Workspace, customer_external_id: str) -> bytes:
    """The customer's referrals, deal registrations, events, sales and refunds, and the commissions
    they earned partners. Raises CustomerNotFound when Tandem holds nothing about them."""
    referrals = Referral.objects.for_workspace(workspace).filter(customer_external_id=customer_external_id)
    events = InboundEvent.objects.for_workspace(workspace).filter(customer_external_id=customer_external_id)
    if not referrals.exists() and not events.exists():
        raise CustomerNotFound(customer_external_id)
    referral_ids = list(referrals.values_list("pk", flat=True))
    commissions = Commission.objects.for_workspace(workspace).filter(referral_id__in=referral_ids)
    tables = {
        "referrals": _rows(referrals),
        "deal_registrations": _rows(
            DealRegistration.objects.for_workspace(workspace).filter(referral__in=referral_ids)
        ),
        "events": _rows(events),
        "conversions": _rows(Conversion.objects.for_workspace(workspace).filter(referral_id__in=referral_ids)),
        "commissions": _rows(commissions),
        "commission_reversals": _rows(
            CommissionReversal.objects.for_workspace(workspace).filter(commission__in=commissions)
        ),
    }
    about = {"workspace": workspace.name, "customer_external_id": customer_external_id, "exported_at": _now()}
    return _zip(about, tables)


def partner_export(*, workspace: Workspace, partner: Partner) -> bytes:
    """The partner's profile and logins, links, codes, clicks, referrals (customers as the partner sees
    them: no one else's email), deal registrations, commissions, statements and payouts."""
    ws = workspace
    referrals = Referral.objects.for_workspace(ws).filter(partner=partner)
    statements = Statement.objects.for_workspace(ws).filter(partner=partner)
    tables = {
        "partner": _rows(Partner.objects.for_workspace(ws).filter(pk=partner.pk)),
        "logins": [
            {"email": email, "since": _plain(since)}
            for email, since in PartnerUser.objects.for_workspace(ws)
            .filter(partner=partner)
            .values_list("user__email", "created_at")
        ],
        "links": _rows(Link.objects.for_workspace(ws).filter(partner=partner)),
        "referral_codes": _rows(ReferralCode.objects.for_workspace(ws).filter(partner=partner)),
        "clicks": _rows(Click.objects.for_workspace(ws).filter(partner=partner)),
        "referrals": _rows(
            referrals,
            ["id", "program_id", "customer_external_id", "source", "stage", "created_at", "converted_at"],
        ),
        "deal_registrations": _rows(DealRegistration.objects.for_workspace(ws).filter(partner=partner)),
        "commissions": _rows(Commission.objects.for_workspace(ws).filter(partner=partner)),
        "statements": _rows(statements),
        "statement_lines": _rows(StatementLine.objects.for_workspace(ws).filter(statement__in=statements)),
        "payouts": _rows(Payout.objects.for_workspace(ws).filter(statement__in=statements)),
    }
    about = {"workspace": ws.name, "partner_id": partner.pk, "exported_at": _now()}
    return _zip(about, tables)


def _now() -> str:
    return timezone.now().isoformat()
