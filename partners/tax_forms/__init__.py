"""Partners' tax details: a W-9 (US persons) or W-8BEN (everyone else), kept as data with the
taxpayer identification number (TIN) sealed. Read here; change with `save_tax_form`
(partners/tax_forms/services.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from accounts.models import Workspace
from partners.models import Partner, TaxForm

__all__ = ["TaxFormSummary", "mask_tin", "summary_of", "tax_form_of", "tax_form_on_file"]


@dataclass(frozen=True)
class TaxFormSummary:
    """What anyone allowed to see a partner may see of its tax form: the TIN is masked."""

    kind: str  # "w9" | "w8ben"
    kind_label: str
    legal_name: str
    country: str
    tin_masked: str
    signed_on: date


def mask_tin(last4: str) -> str:
    return f"•••••{last4}" if last4 else "•••"


def summary_of(form: TaxForm) -> TaxFormSummary:
    return TaxFormSummary(
        kind=form.kind,
        kind_label=form.get_kind_display(),
        legal_name=form.legal_name,
        country=form.country,
        tin_masked=mask_tin(form.tin_last4),
        signed_on=form.signed_on,
    )


def tax_form_of(partner: Partner) -> TaxForm | None:
    return TaxForm.objects.filter(workspace_id=partner.workspace_id, partner_id=partner.pk).first()


def tax_form_on_file(workspace: Workspace, partner_ids: Iterable[int]) -> dict[int, TaxFormSummary]:
    """The tax forms of these partners of `workspace` in one query, by partner id (absent: none on file)."""
    forms = TaxForm.objects.for_workspace(workspace).filter(partner_id__in=list(partner_ids))
    return {form.partner_id: summary_of(form) for form in forms}
