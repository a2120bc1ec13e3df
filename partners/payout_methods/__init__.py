"""Partners' payout methods (Stripe, PayPal, SEPA, manual): read them here, change them with
`set_payout_method` (partners/payout_methods/services.py). Details are sealed at rest and masked
for everyone but owners and finance."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from accounts.models import Workspace
from core.sealed import unseal
from partners.models import Partner, PayoutMethod
from partners.payout_methods.details import (
    FIELDS,
    PayoutMethodDetails,
    clean_payout_fields,
    details_of,
    mask_iban,
    mask_text,
)

__all__ = [
    "FIELDS",
    "PayoutMethodDetails",
    "clean_payout_fields",
    "current_payout_method",
    "details_of",
    "mask_iban",
    "mask_text",
    "payout_method_row",
    "payout_methods_for",
    "row_details",
    "statement_copy",
]


def statement_copy(method: PayoutMethodDetails | None) -> tuple[str, str]:
    """(type, masked details) as a statement keeps them when issued; ("", "") without a method."""
    if method is None:
        return "", ""
    masked = method.masked
    if method.type == "sepa":
        return method.type, f"{masked['account_holder']}\nIBAN {masked['iban']}\nBIC {masked['bic']}"
    return method.type, "\n".join(masked.values())


def row_details(row: PayoutMethod) -> PayoutMethodDetails:
    fields: dict[str, Any] = json.loads(unseal(row.sealed_details))
    # In the order a form shows them (the sealed JSON is sorted by key).
    return details_of(row.type, {name: str(fields[name]) for name in FIELDS[row.type] if name in fields})


def payout_method_row(partner: Partner) -> PayoutMethod | None:
    return PayoutMethod.objects.filter(workspace_id=partner.workspace_id, partner_id=partner.pk).first()


def current_payout_method(partner: Partner) -> PayoutMethodDetails | None:
    """The partner's payout method, or None when it has not chosen one."""
    row = payout_method_row(partner)
    return row_details(row) if row is not None else None


def payout_methods_for(workspace: Workspace, partner_ids: Iterable[int]) -> dict[int, PayoutMethodDetails]:
    """The payout methods of these partners of `workspace` in one query, by partner id (absent: none set)."""
    rows = PayoutMethod.objects.for_workspace(workspace).filter(partner_id__in=list(partner_ids))
    return {row.partner_id: row_details(row) for row in rows}
