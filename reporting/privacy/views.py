"""The staff privacy page (erase or export a customer, export a partner, click retention) and the
partners' page saying what is kept and for how long."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render

from accounts.services import record_audit
from accounts.tenancy import MANAGERS, OWNERS, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from attribution.models import InboundEvent
from partners.models import Partner
from partners.portal import PartnerRequest, partner_member
from referrals.models import Referral
from reporting.privacy import export
from reporting.privacy.erasure import CustomerNotFound, erase_customer, erasure_of
from reporting.privacy.forms import CustomerForm, EraseForm, RetentionForm
from reporting.privacy.retention import RETENTION_SETTING, retention_months

PARTNERS_SHOWN = 20


def _customer_summary(request: WorkspaceRequest, customer_id: str) -> dict[str, object]:
    ws = request.workspace
    referrals = Referral.objects.for_workspace(ws).filter(customer_external_id=customer_id).select_related("partner")
    return {
        "customer_id": customer_id,
        "referrals": list(referrals),
        "event_count": InboundEvent.objects.for_workspace(ws).filter(customer_external_id=customer_id).count(),
        "erasure": erasure_of(workspace=ws, customer_external_id=customer_id),
    }


@workspace_member(MANAGERS, methods=("GET", "HEAD", "POST"))
def privacy(request: WorkspaceRequest) -> HttpResponseBase:
    """Look a customer up by id; export or erase them. Export a partner. Owners set click retention."""
    ws = request.workspace
    lookup = CustomerForm(request.GET if "customer" in request.GET else None)
    partner_query = (request.GET.get("partner") or "").strip()[:120]
    partners = Partner.objects.for_workspace(ws).order_by("name")
    if partner_query:
        partners = partners.filter(Q(name__icontains=partner_query) | Q(email__icontains=partner_query))
    context: dict[str, object] = {
        "lookup": lookup,
        "partner_query": partner_query,
        "partners": partners[:PARTNERS_SHOWN],
    }
    if request.method == "POST":
        erase_form = EraseForm(request.POST)
        if erase_form.is_valid():
            customer_id = erase_form.cleaned_data["customer"]
            try:
                erase_customer(workspace=ws, customer_external_id=customer_id, by=request.user)
            except CustomerNotFound:
                messages.error(request, "Tandem holds nothing about a customer with that id.")
            else:
                messages.success(request, "The customer's personal details are erased. Amounts and commissions stay.")
            return redirect(f"{request.path}?customer={customer_id}")
        lookup = CustomerForm({"customer": request.POST.get("customer", "")})
        context.update(lookup=lookup, erase_form=erase_form)
    if lookup.is_valid():
        summary = _customer_summary(request, lookup.cleaned_data["customer"])
        context.update(summary)
        context.setdefault("erase_form", EraseForm(initial={"customer": summary["customer_id"]}))
    context["retention_form"] = RetentionForm(initial={"months": retention_months(ws)})
    context["can_set_retention"] = request.membership.role in OWNERS
    return render(request, "reporting/privacy/privacy.html", context)


@workspace_member(MANAGERS)
def customer_export(request: WorkspaceRequest) -> HttpResponseBase:
    form = CustomerForm(request.GET)
    if not form.is_valid():
        return redirect("privacy", slug=request.workspace.slug)
    try:
        data = export.customer_export(workspace=request.workspace, customer_external_id=form.cleaned_data["customer"])
    except CustomerNotFound:
        messages.error(request, "Tandem holds nothing about a customer with that id.")
        return redirect("privacy", slug=request.workspace.slug)
    return _zip(data, "customer-export.zip")


@workspace_member(MANAGERS)
def partner_export(request: WorkspaceRequest, partner_id: int) -> HttpResponseBase:
    partner = get_for_workspace_or_404(Partner.objects, request.workspace, pk=partner_id)
    return _zip(export.partner_export(workspace=request.workspace, partner=partner), f"partner-{partner.pk}-export.zip")


@workspace_member(OWNERS, methods=("POST",))
def retention(request: WorkspaceRequest) -> HttpResponseBase:
    form = RetentionForm(request.POST)
    if form.is_valid():
        ws = request.workspace
        before = retention_months(ws)
        months = form.cleaned_data["months"]
        ws.settings = {**(ws.settings or {}), RETENTION_SETTING: months}
        ws.save(update_fields=["settings"])
        record_audit(
            workspace=ws, actor=request.user, action="privacy.retention_changed", target=ws,
            changes={"click_retention_months": [before, months]},
        )  # fmt: skip
        messages.success(request, f"Individual clicks are now kept for {months} months.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("privacy", slug=request.workspace.slug)


def _zip(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@partner_member()
def portal_privacy(request: PartnerRequest) -> HttpResponse:
    context = {"months": retention_months(request.workspace), "partner": request.partner}
    return render(request, "reporting/privacy/portal_privacy.html", context)
