"""Saving a partner's tax form: checked field by field, the TIN sealed, the change audited (masked)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import record_audit
from core.iso import COUNTRY_CODES
from core.sealed import seal, unseal
from core.text import unusable_character
from partners.models import Partner, TaxForm
from partners.tax_forms import mask_tin, tax_form_of

_TEXT_FIELDS = {
    "legal_name": 200,
    "business_name": 200,
    "address_line1": 200,
    "address_line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "signature_name": 200,
}
_REQUIRED = ("legal_name", "address_line1", "city", "signature_name")
_US_TIN = re.compile(r"\d{9}")
_FOREIGN_TIN = re.compile(r"[A-Z0-9]{1,30}")


def clean_tax_form(data: dict[str, Any]) -> dict[str, str]:
    """The form's fields, checked and normalised; raises ValidationError naming each field at fault."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name in (*_TEXT_FIELDS, "kind", "country", "tin"):
        raw = data.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        if problem := unusable_character(text):
            errors[name] = [problem]
        elif name in _TEXT_FIELDS and len(text) > _TEXT_FIELDS[name]:
            errors[name] = [f"At most {_TEXT_FIELDS[name]} characters."]
        values[name] = text
    if errors:
        raise ValidationError(errors)
    for name in _REQUIRED:
        if not values[name]:
            errors[name] = ["This field is required."]
    kind = values["kind"]
    if kind not in TaxForm.Kind.values:
        errors["kind"] = ["Choose W-9 (a US person) or W-8BEN (anyone else)."]
    country = values["country"].upper() or ("US" if kind == TaxForm.Kind.W9 else "")
    values["country"] = country
    if country not in COUNTRY_CODES:
        errors["country"] = ["Choose the country of residence for tax purposes."]
    elif kind == TaxForm.Kind.W8BEN and country == "US":
        errors["country"] = ["A US person fills in a W-9, not a W-8BEN."]
    tin = re.sub(r"[\s\-./]", "", values["tin"]).upper()
    if kind == TaxForm.Kind.W9 and not _US_TIN.fullmatch(tin):
        errors["tin"] = ["Enter the 9-digit SSN or EIN, such as 123-45-6789 or 12-3456789."]
    elif kind == TaxForm.Kind.W8BEN and not _FOREIGN_TIN.fullmatch(tin):
        errors["tin"] = ["Enter the tax identification number of your country of residence (letters and digits)."]
    values["tin"] = tin
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def save_tax_form(
    *, partner: Partner, data: dict[str, Any], by: User | None, actor_label: str | None = None
) -> TaxForm:
    """Record the partner's W-9 or W-8BEN, signed today by `signature_name`; replaces the one on file."""
    values = clean_tax_form(data)
    list(Partner.objects.for_workspace(partner.workspace).select_for_update().filter(pk=partner.pk).values_list("pk"))
    before = tax_form_of(partner)
    tin = values.pop("tin")
    if before is not None and unseal(before.sealed_tin) == tin:
        unchanged = all(getattr(before, name) == value for name, value in values.items())
        if unchanged:
            return before
    now = timezone.now()
    form, _ = TaxForm.objects.update_or_create(
        workspace_id=partner.workspace_id,
        partner_id=partner.pk,
        defaults={**values, "sealed_tin": seal(tin), "tin_last4": tin[-4:], "signed_on": now.date(), "updated_at": now},
    )
    record_audit(
        workspace=partner.workspace,
        actor=by,
        actor_label=actor_label,
        action="partner.tax_form_saved",
        target=partner,
        changes={
            "kind": [before.kind if before else None, form.kind],
            "legal_name": [before.legal_name if before else None, form.legal_name],
            "tin": [mask_tin(before.tin_last4) if before else None, mask_tin(form.tin_last4)],
        },
    )
    return form
