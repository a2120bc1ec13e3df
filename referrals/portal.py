"""The partner portal's referrals pages: a partner sees and makes only its own links, codes and deals."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Domain
from accounts.tenancy import get_for_workspace_or_404
from partners.portal import PartnerRequest, partner_member
from referrals import selectors, services
from referrals.forms import DealRegistrationForm, LinkForm, ReferralCodeForm, apply_errors
from referrals.models import Link
from referrals.views import PAGE_SIZE, qr_response, short_url

WRITE = ("GET", "HEAD", "POST")
INACTIVE = (
    "Your partnership is not active, so you cannot add new links, codes or deals. Your existing links still work."
)


@partner_member(methods=WRITE)
def portal_links(request: PartnerRequest) -> HttpResponse:
    workspace, partner = request.workspace, request.partner
    form = LinkForm(request.POST or None)
    if request.method == "POST":
        if not partner.earns:
            form.add_error(None, INACTIVE)
        elif form.is_valid():
            data = form.cleaned_data
            try:
                result = services.create_link(
                    workspace=workspace,
                    partner=partner,
                    destination_url=data["destination_url"],
                    code=data["code"],
                    channel=data["channel"],
                    campaign=data["campaign"],
                    utm=form.utm(),
                    created_by=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Your link /r/{result.link.code} is ready. Copy it or download its QR code.")
                return redirect("portal_links", slug=workspace.slug)
    rows = selectors.links(workspace, partner=partner)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.with_click_counts(workspace, list(page.object_list))
    for link in page.object_list:
        link.short_url = short_url(request, link)  # type: ignore[attr-defined]
    domains = list(workspace.domains.filter(status=Domain.Status.VERIFIED).values_list("domain", flat=True))
    return render(request, "referrals/portal_links.html", {"form": form, "page": page, "domains": domains})


@partner_member()
def portal_link_qr(request: PartnerRequest, link_id: int, kind: str) -> HttpResponse:
    link = get_for_workspace_or_404(Link.objects.filter(partner=request.partner), request.workspace, pk=link_id)
    return qr_response(short_url(request, link), kind, f"qr-{link.code}", download="download" in request.GET)


@partner_member(methods=WRITE)
def portal_codes(request: PartnerRequest) -> HttpResponse:
    workspace, partner = request.workspace, request.partner
    form = ReferralCodeForm(request.POST or None)
    if request.method == "POST":
        if not partner.earns:
            form.add_error(None, INACTIVE)
        elif form.is_valid():
            data = form.cleaned_data
            try:
                row = services.create_referral_code(
                    workspace=workspace,
                    partner=partner,
                    code=data["code"],
                    channel=data["channel"],
                    campaign=data["campaign"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Your code {row.code} is ready: customers type it at checkout.")
                return redirect("portal_codes", slug=workspace.slug)
    rows = selectors.referral_codes(workspace, partner=partner)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "referrals/portal_codes.html", {"form": form, "page": page})


@partner_member()
def portal_referrals(request: PartnerRequest) -> HttpResponse:
    rows = selectors.referrals(request.workspace, partner=request.partner)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "referrals/portal_referrals.html", {"page": page})


@partner_member(methods=WRITE)
def portal_deals(request: PartnerRequest) -> HttpResponse:
    workspace, partner = request.workspace, request.partner
    form = DealRegistrationForm(request.POST or None, initial={"currency": partner.program.currency})
    if request.method == "POST":
        if not partner.earns:
            form.add_error(None, INACTIVE)
        elif form.is_valid():
            try:
                deal = services.submit_deal_registration(
                    workspace=workspace, partner=partner, submitted_by=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{deal.company} is registered. You will get an email when it is reviewed.")
                return redirect("portal_deals", slug=workspace.slug)
    rows = selectors.deal_registrations(workspace, partner=partner)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/portal_deals.html",
        {
            "form": form,
            "page": page,
            "protection_days": partner.program.deal_protection_days,
        },
    )
