"""`GET /api/v1/partners/{id}/stats`: one partner's figures for a date range, the same numbers the
dashboard and the partner's page show (reporting/metrics.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router

from accounts.api_platform import ApiError, workspace_of
from attribution.rewards import round_money
from partners.models import Partner
from reporting import metrics
from reporting.filters import MAX_DAYS, today

router = Router(tags=["reports"])


def _amount(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else str(round_money(Decimal(value), currency))


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _date(value: str | None, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = ["Use a date as YYYY-MM-DD."]
        return None


def parse_range(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """The inclusive UTC day range of a request; the last 30 days when neither date is given."""
    errors: dict[str, list[str]] = {}
    first, last = _date(start, "start", errors), _date(end, "end", errors)
    if errors:
        raise ApiError(422, "invalid", "The date range is not valid.", errors)
    last = last or today()
    first = first or last - dt.timedelta(days=29)
    if first > last:
        errors["end"] = ["The end comes before the start."]
    elif (last - first).days >= MAX_DAYS:
        errors["start"] = ["Ask for at most three years at a time."]
    if errors:
        raise ApiError(422, "invalid", "The date range is not valid.", errors)
    return first, last


def partner_stats(partner: Partner, start: dt.date, end: dt.date) -> dict[str, Any]:
    filters = metrics.Filters(
        start=start, end=end, currency=partner.program.currency, program_id=partner.program_id, partner_id=partner.pk
    )
    summary = metrics.summary(partner.workspace, filters)
    t = summary.totals
    return {
        "clicks": t.clicks,
        "unique_clicks": t.unique_clicks,
        "leads": t.leads,
        "customers": t.customers,
        "sales": t.sales,
        "revenue": _amount(t.revenue, t.currency),
        "average_deal_size": _amount(t.average_deal_size, t.currency),
        "click_to_lead_rate": _rate(t.click_to_lead_rate),
        "lead_to_customer_rate": _rate(t.lead_to_customer_rate),
        "median_time_to_conversion_seconds": summary.timing.median_seconds,
        "commissions": {
            "pending": _amount(t.commission_pending, t.currency),
            "approved": _amount(t.commission_approved, t.currency),
            "paid": _amount(t.commission_paid, t.currency),
            "reversed": _amount(t.commission_reversed, t.currency),
            "rejected": _amount(t.commission_rejected, t.currency),
            "net": _amount(t.commission_net, t.currency),
        },
        "currency": t.currency,
    }


@router.get("/partners/{id}/stats", url_name="partner_stats", summary="A partner's figures for a date range")
def get_partner_stats(
    request: HttpRequest, id: int, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    """Human clicks, leads, customers, sales, revenue, rates, time to conversion and commissions by
    status, for the UTC days `start`..`end` (YYYY-MM-DD, both included; default the last 30 days)."""
    partner = (
        Partner.objects.for_workspace(workspace_of(request))
        .select_related("program", "workspace")
        .filter(pk=id)
        .first()
    )
    if partner is None:
        raise ApiError(404, "not_found", "No partner with this id in this workspace.")
    first, last = parse_range(start, end)
    return partner_stats(partner, first, last)
