"""The payouts endpoints of /api/v1/: close a period, list and read statements, download a PDF."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict

from accounts.api_platform import ApiError, IsoDate, cursor_page, workspace_of
from attribution.rewards import round_money
from reporting.payouts import selectors
from reporting.payouts.models import PayoutPeriod, Statement, StatementLine
from reporting.payouts.pdf import statement_pdf_bytes
from reporting.payouts.statements import close_payout_period
from reporting.payouts.verification import verification_url

router = Router(tags=["payouts"])

# OpenAPI operation ids default to the module path; these keep the ids clients were generated from
# when the module was reporting/payout_api.py.
_OPERATION_PREFIX = "reporting_payout_api_"


def _money(value: Decimal, currency: str) -> str:
    """A decimal string to the currency's minor unit (cents for most, none for JPY)."""
    return str(round_money(value, currency))


class PeriodIn(Schema):
    model_config = ConfigDict(extra="forbid")

    end: IsoDate


class StatementFilters(Schema):
    partner_id: int | None = None
    period: str | None = None
    cursor: str | None = None
    limit: int | None = None


def statement_summary(statement: Statement) -> dict[str, Any]:
    return {
        "id": statement.pk,
        "number": statement.number,
        "period_id": statement.period_id,
        "period_end": statement.period.end.isoformat(),
        "partner_id": statement.partner_id,
        "partner_name": statement.partner_name,
        "status": statement.status,
        "currency": statement.currency,
        "total": _money(statement.total, statement.currency),
        "line_count": statement.line_count,
        "issued_at": statement.issued_at.isoformat(),
        "paid_at": statement.paid_at.isoformat() if statement.paid_at else None,
        "emailed_at": statement.emailed_at.isoformat() if statement.emailed_at else None,
    }


def line_out(line: StatementLine) -> dict[str, Any]:
    return {
        "position": line.position,
        "kind": line.kind,
        "date": line.date.isoformat(),
        "description": line.description,
        "customer_reference": line.customer_reference,
        "sale_amount": _money(line.sale_amount, line.currency) if line.sale_amount is not None else None,
        "rule": line.rule,
        "amount": _money(line.amount, line.currency),
        "currency": line.currency,
        "carried": line.carried,
        "commission_id": line.commission_id,
    }


def statement_out(statement: Statement) -> dict[str, Any]:
    return {
        **statement_summary(statement),
        "totals": {
            "commissions": _money(statement.commission_total, statement.currency),
            "reversals": _money(statement.reversal_total, statement.currency),
            "adjustments": _money(statement.adjustment_total, statement.currency),
            "total": _money(statement.total, statement.currency),
            "currency": statement.currency,
        },
        "payout_method": statement.payout_method,
        "payout_details": statement.payout_details,
        "ledger": {
            "sequence": statement.ledger_sequence,
            "hash": statement.ledger_hash,
            "balance": _money(statement.ledger_balance, statement.currency),
        },
        # What the PDF prints for the partner to check it: /verify/<code>, no login.
        "verification": {
            "code": statement.verification_code,
            "url": verification_url(statement.verification_code),
        },
        "lines": [line_out(line) for line in statement.lines.all()],
    }


def period_out(period: PayoutPeriod) -> dict[str, Any]:
    statements = list(selectors.period_statements(period))
    return {
        "id": period.pk,
        "start": period.start.isoformat() if period.start else None,
        "end": period.end.isoformat(),
        "closed_at": period.closed_at.isoformat(),
        "carried_partner_count": period.carried_partner_count,
        "totals": [
            {
                "currency": t.currency,
                "statements": t.statements,
                "total": _money(t.total, t.currency),
                "paid": _money(t.paid, t.currency),
            }
            for t in selectors.totals_by_currency(selectors.period_statements(period))
        ],
        "statements": [statement_summary(s) for s in statements],
    }


@router.post(
    "/payout-periods",
    response={200: dict, 201: dict},
    summary="Close a payout period and issue its statements",
    description=(
        "Closes the period ending on `end` (a past date, YYYY-MM-DD; the period starts the day after the "
        "previous one) and issues one statement per partner and currency. Partners under their program's "
        "minimum payout carry over. The same `end` again answers the existing period with 200 instead of 201."
    ),
    operation_id=f"{_OPERATION_PREFIX}close_period",
)
def close_period(request: HttpRequest, payload: PeriodIn) -> Status:
    workspace = workspace_of(request)
    key_name = request.api_key.name  # type: ignore[attr-defined]  # set by the platform's key auth
    try:
        closed = close_payout_period(workspace=workspace, end=payload.end, by=None, actor_label=f"API key {key_name}")
    except ValidationError as exc:
        raise ApiError(
            422, "invalid", " ".join(exc.messages), exc.message_dict if hasattr(exc, "error_dict") else {}
        ) from exc
    return Status(201 if closed.created else 200, period_out(closed.period))


@router.get(
    "/statements",
    summary="List statements (filters: partner_id, period)",
    description="`period` takes a period id (e.g. `12`) or the period's end date (e.g. `2026-10-31`).",
    operation_id=f"{_OPERATION_PREFIX}list_statements",
)
def list_statements(request: HttpRequest, filters: Query[StatementFilters]) -> dict[str, Any]:
    workspace = workspace_of(request)
    rows = selectors.statements(workspace)
    if filters.partner_id is not None:
        rows = rows.filter(partner_id=filters.partner_id)
    if filters.period:
        period = selectors.find_period(workspace, filters.period)
        if period is None:
            raise ApiError(
                422,
                "invalid",
                "There is no period with that id or end date.",
                {"period": ["Use a period id or its end date as YYYY-MM-DD."]},
            )
        rows = rows.filter(period=period)
    return cursor_page(rows, cursor=filters.cursor, limit=filters.limit, serialize=statement_summary)


@router.get(
    "/statements/{int:statement_id}",
    summary="One statement with its lines and totals",
    operation_id=f"{_OPERATION_PREFIX}get_statement",
)
def get_statement(request: HttpRequest, statement_id: int) -> dict[str, Any]:
    return statement_out(selectors.get_statement_or_404(workspace_of(request), statement_id))


@router.get(
    "/statements/{int:statement_id}/pdf",
    summary="A statement as PDF",
    response={200: None},
    operation_id=f"{_OPERATION_PREFIX}get_statement_pdf",
)
def get_statement_pdf(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = selectors.get_statement_or_404(workspace_of(request), statement_id)
    response = HttpResponse(statement_pdf_bytes(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.number}.pdf"'
    return response
