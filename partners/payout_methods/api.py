"""`/api/v1/partners/{id}/payout-method`: set and read how a partner is paid. Answers are masked; the full
details stay with owners and finance on the partner page."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from accounts.api_platform import ApiError, actor_label, workspace_of
from partners import selectors
from partners.models import PayoutMethod
from partners.payout_methods import FIELDS, PayoutMethodDetails, payout_method_row, row_details
from partners.payout_methods.services import set_payout_method

router = Router(tags=["payout methods"])


class PayoutMethodIn(Schema):
    """`type` and the fields of that method; fields of another method are refused."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["stripe_connect", "paypal", "sepa", "manual"]
    account_id: str | None = Field(None, description="stripe_connect: the connected account, `acct_…`")
    email: str | None = Field(None, description="paypal: the PayPal account's email")
    account_holder: str | None = Field(None, description="sepa: the name on the bank account")
    iban: str | None = Field(None, description="sepa: the IBAN, checked (country, length, check digits)")
    bic: str | None = Field(None, description="sepa: the bank's BIC; found from the IBAN when left out and known")
    instructions: str | None = Field(None, description="manual: how the partner is paid outside Tandem")


class PayoutMethodOut(Schema):
    partner_id: int
    type: str
    label: str = Field(description="The method in plain words, masked, e.g. “SEPA transfer to DE89 •••• 3000”")
    account_id: str | None = Field(None, description="masked")
    email: str | None = Field(None, description="masked")
    account_holder: str | None = None
    iban: str | None = Field(None, description="masked")
    bic: str | None = None
    instructions: str | None = Field(None, description="masked: digits but the last four hidden")
    updated_at: str


def payout_method_out(partner_id: int, method: PayoutMethodDetails, row: PayoutMethod) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "type": method.type,
        "label": method.label,
        **method.masked,
        "updated_at": row.updated_at.isoformat(),
    }


@router.put(
    "/partners/{int:partner_id}/payout-method",
    response=PayoutMethodOut,
    exclude_none=True,
    summary="Set a partner's payout method",
    description=(
        "Replaces the partner's payout method. The answer masks account numbers and emails. Sending the method "
        "already on file changes nothing; a change is audited and emailed to the partner."
    ),
)
def put_payout_method(request: HttpRequest, partner_id: int, payload: PayoutMethodIn) -> dict[str, Any]:
    partner = selectors.get_partner_or_404(workspace_of(request), partner_id)
    sent = payload.model_dump(exclude_none=True)
    method_type = sent.pop("type")
    foreign = sorted(set(sent) - set(FIELDS[method_type]))
    if foreign:
        raise ApiError(
            422,
            "invalid",
            f"These fields do not belong to a {method_type} payout method: {', '.join(foreign)}.",
            {name: [f"Not a field of {method_type}; send {', '.join(FIELDS[method_type])}."] for name in foreign},
        )
    set_payout_method(partner=partner, method_type=method_type, fields=sent, by=None, actor_label=actor_label(request))
    return get_payout_method(request, partner_id)


@router.get(
    "/partners/{int:partner_id}/payout-method",
    response=PayoutMethodOut,
    exclude_none=True,
    summary="A partner's payout method (masked)",
)
def get_payout_method(request: HttpRequest, partner_id: int) -> dict[str, Any]:
    partner = selectors.get_partner_or_404(workspace_of(request), partner_id)
    row = payout_method_row(partner)
    if row is None:
        raise ApiError(404, "not_found", "This partner has no payout method yet.")
    return payout_method_out(partner.pk, row_details(row), row)
