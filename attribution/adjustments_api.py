"""The API of what a manager adds by hand: a bonus for a partner (`POST /commissions`) and the credit
of an unattributed event (`POST /events/{event_id}/assign`). Idempotency-Key and the one transaction
each write runs in are the API platform's (accounts/api_platform.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field, field_validator

from accounts.api_platform import ApiError, Id, actor_label, workspace_of
from attribution import adjustments, selectors
from attribution.api import commission_out, get_event
from attribution.api import router as attribution_router
from attribution.api_input import AMOUNT_SCHEMA, _amount_in_currency, _Strict
from partners.models import Partner

# Assigning goes first (config/api.py adds this router before attribution's), since attribution's
# GET /events/{event_id} takes any path and would answer a POST to /events/x/assign with a 405.
# The bonus joins attribution's own router, which holds GET /commissions: one path is one view.
router = Router(tags=["tracking"])


class ManualCommissionIn(_Strict):
    partner_id: Id
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, e.g. USD")
    amount: Decimal = Field(description='A decimal string such as "50.00"', json_schema_extra=AMOUNT_SCHEMA)
    description: str = Field(min_length=1, max_length=255, description="Why; the partner reads it in the portal")

    _amount = field_validator("amount", mode="before")(_amount_in_currency)


def _partner(request: HttpRequest, partner_id: int) -> Partner:
    partner = Partner.objects.for_workspace(workspace_of(request)).filter(pk=partner_id).first()
    if partner is None:
        raise ApiError(
            422, "invalid", "There is no partner with that id in this workspace.", {"partner_id": ["Unknown partner."]}
        )
    return partner


@attribution_router.post(
    "/commissions",
    response={201: dict, 200: dict},
    summary="Give a partner a bonus (a manual commission)",
    description="A one-off commission with its reason, shown to the partner as “Bonus from <workspace>: "
    "<description>”. It starts pending, due at once, and is approved, put on a statement and paid like any "
    "commission. Send an Idempotency-Key to make retries safe.",
    tags=["commissions"],
)
def add_manual_commission(request: HttpRequest, payload: ManualCommissionIn) -> Status[Any]:
    workspace = workspace_of(request)
    commission, created = adjustments.add_manual_commission(
        workspace=workspace,
        partner=_partner(request, payload.partner_id),
        amount=payload.amount,
        currency=payload.currency,
        description=payload.description,
        by=None,
        actor_label=actor_label(request),
    )
    commission = selectors.get_commission_or_404(workspace, commission.pk)
    return Status(201 if created else 200, commission_out(commission))


class AssignIn(_Strict):
    partner_id: Id


@router.post(
    "/events/{path:event_id}/assign",
    summary="Credit an unattributed lead or sale to a partner",
    description="The customer becomes the partner's referral (source `manual`) and the event is attributed "
    "again under the reward rules. Answers the event's state (as GET /events/{event_id}); it is `received` "
    "until the workers have credited it. 409 when the event is not unattributed, or its customer is "
    "another partner's referral.",
)
def assign_event(request: HttpRequest, event_id: str, payload: AssignIn) -> dict[str, Any]:
    workspace = workspace_of(request)
    event = selectors.get_event_or_404(workspace, event_id=event_id)
    partner = _partner(request, payload.partner_id)
    try:
        adjustments.assign_event_to_partner(
            workspace=workspace, event=event, partner=partner, by=None, actor_label=actor_label(request)
        )
    except adjustments.EventNotAssignable as exc:
        raise ApiError(409, "not_assignable", str(exc)) from exc
    return get_event(request, event.event_id)
