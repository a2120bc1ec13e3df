"""`/api/v1/customers/{customer_external_id}/erase` and `/export`, `/api/v1/partners/{partner_id}/export`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from accounts.api_platform import ApiError, actor_label, get_or_404, workspace_of
from core.text import unusable_character
from partners.models import Partner
from reporting.privacy import export
from reporting.privacy.erasure import CustomerNotFound, erase_customer

router = Router(tags=["privacy"])
_OPERATION_PREFIX = "reporting_privacy_api_"
_NOT_FOUND = "Tandem holds nothing about a customer with this id in this workspace."


class ErasureOut(Schema):
    customer_external_id: str
    status: str
    erased_at: str


def _customer_id(value: str) -> str:
    problem = unusable_character(value)
    if problem or not value.strip() or len(value) > 200:
        message = problem or "Give the customer's id as sent with their events (1 to 200 characters)."
        raise ApiError(422, "invalid_customer_id", message, {"customer_external_id": [message]})
    return value


@router.post(
    "/customers/{customer_external_id}/erase",
    response=ErasureOut,
    summary="Erase a customer's personal data",
    description=(
        "Replaces the customer's email, name and every other personal field Tandem keeps about them (referrals, "
        "events' raw payloads, deal registrations, CSV uploads, audit entries, webhook logs) by a stable "
        "pseudonym `erased-<hash>`. Amounts, commissions, statements and the ledger are untouched. Erasing "
        "again answers the first erasure; an id Tandem never saw is a 404."
    ),
    operation_id=f"{_OPERATION_PREFIX}erase_customer",
)
def erase(request: HttpRequest, customer_external_id: str) -> dict[str, Any]:
    customer_id = _customer_id(customer_external_id)
    try:
        done = erase_customer(
            workspace=workspace_of(request), customer_external_id=customer_id, actor_label=actor_label(request)
        )
    except CustomerNotFound:
        raise ApiError(404, "not_found", _NOT_FOUND) from None
    return {"customer_external_id": customer_id, "status": done.status, "erased_at": done.erased_at.isoformat()}


def _zip_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get(
    "/customers/{customer_external_id}/export",
    response={200: None},
    summary="Everything Tandem holds about a customer, as a zip",
    description="A zip with `data.json` and one CSV per kind of row: referrals, deal registrations, events, "
    "conversions, commissions and their reversals.",
    operation_id=f"{_OPERATION_PREFIX}export_customer",
)
def export_customer(request: HttpRequest, customer_external_id: str) -> HttpResponse:
    customer_id = _customer_id(customer_external_id)
    try:
        data = export.customer_export(workspace=workspace_of(request), customer_external_id=customer_id)
    except CustomerNotFound:
        raise ApiError(404, "not_found", _NOT_FOUND) from None
    return _zip_response(data, "customer-export.zip")


@router.get(
    "/partners/{int:partner_id}/export",
    response={200: None},
    summary="Everything Tandem holds about a partner, as a zip",
    description="A zip with `data.json` and one CSV per kind of row: profile, logins, links, codes, clicks, "
    "referrals, deal registrations, commissions, statements and payouts.",
    operation_id=f"{_OPERATION_PREFIX}export_partner",
)
def export_partner(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = get_or_404(request, Partner.objects, pk=partner_id)
    data = export.partner_export(workspace=workspace_of(request), partner=partner)
    return _zip_response(data, f"partner-{partner.pk}-export.zip")
