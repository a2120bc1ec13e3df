"""Payout settings pages: the partner's own (portal) and finance's on the partner's behalf (staff).

Partners and every staff member see the method masked; only owners and finance open the staff page,
which shows the details in full so they can check them against a bank file.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.tenancy import FINANCE, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from partners.forms import add_service_errors
from partners.models import Partner
from partners.payout_methods import current_payout_method
from partners.payout_methods.forms import PayoutMethodForm, TaxDetailsForm
from partners.payout_methods.offers import setup_offers_for
from partners.payout_methods.services import set_payout_method
from partners.portal import PartnerRequest, partner_member
from partners.tax_forms import summary_of, tax_form_of
from partners.tax_forms.services import save_tax_form

WRITE = ("GET", "HEAD", "POST")


@partner_member(methods=WRITE)
def portal_payout_settings(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    current = current_payout_method(partner)
    form = PayoutMethodForm(request.POST or None, initial={"type": current.type if current else None})
    if request.method == "POST" and form.is_valid():
        try:
            set_payout_method(
                partner=partner,
                method_type=form.cleaned_data["type"],
                fields=form.chosen_fields(),
                by=request.user,
                by_partner=True,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Payout details saved. We emailed you a confirmation.")
            return redirect("portal_payout_settings", slug=request.workspace.slug)
    form_tax = tax_form_of(partner)
    context = {
        "partner": partner,
        "current": current,
        "form": form,
        "tax_form": summary_of(form_tax) if form_tax else None,
        "tax_form_required": partner.program.requires_tax_form,
        "setup_offers": setup_offers_for(request.workspace),
    }
    return render(request, "partners/payout_settings.html", context)


@partner_member(methods=WRITE)
def portal_tax_details(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    on_file = tax_form_of(partner)
    initial = {"kind": "w9" if partner.country == "US" else "w8ben", "country": partner.country}
    if on_file is not None:
        initial = {name: getattr(on_file, name) for name in TaxDetailsForm.base_fields if name != "tin"}
    form = TaxDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            save_tax_form(partner=partner, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Tax details saved.")
            return redirect("portal_payout_settings", slug=request.workspace.slug)
    context = {"partner": partner, "form": form, "on_file": summary_of(on_file) if on_file else None}
    return render(request, "partners/tax_details.html", context)


@workspace_member(roles=FINANCE, methods=WRITE)
def partner_payout_method(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    """Owners and finance: the partner's payout details in full, and a change on its behalf."""
    partner = get_for_workspace_or_404(Partner.objects.select_related("program"), request.workspace, pk=partner_id)
    current = current_payout_method(partner)
    initial = {"type": current.type, **current.fields} if current else {}
    form = PayoutMethodForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            set_payout_method(
                partner=partner, method_type=form.cleaned_data["type"], fields=form.chosen_fields(), by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Payout details of {partner.name} saved; the partner was emailed.")
            return redirect("partner_payout_method", slug=request.workspace.slug, partner_id=partner.pk)
    form_tax = tax_form_of(partner)
    context = {
        "partner": partner,
        "current": current,
        "form": form,
        "tax_form": summary_of(form_tax) if form_tax else None,
    }
    return render(request, "partners/payout_method_edit.html", context)
