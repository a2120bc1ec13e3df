"""The partner portal's home page: it shows data of several apps, so it lives in reporting."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from attribution.models import Commission
from attribution.reward_terms import reward_sentence
from partners.models import Partner
from partners.portal import PartnerRequest, partner_member
from referrals.default_links import share_kit
from referrals.models import Referral
from referrals.selectors import partner_funnel_counts
from reporting import metrics
from reporting.filters import filters_from_request, today
from reporting.reports.build import build_report


def portal_figures(partner: Partner) -> dict[str, Any]:
    """The funnel figures on the portal home: human clicks, unique clicks, leads and registered deals."""
    return partner_funnel_counts(partner.workspace, partner)


def _statements_url(slug: str) -> str | None:
    # The statements page belongs to the payouts work; link to it only once it exists.
    try:
        return reverse("portal_statements", args=[slug])
    except NoReverseMatch:
        return None


@partner_member()
def portal_home(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    form, filters = filters_from_request(request.GET, workspace=request.workspace, partner=partner)
    context = {
        "partner": partner,
        "program": partner.program,
        "share": share_kit(partner=partner),
        "reward": reward_sentence(partner.program, group=partner.group),
        "figures": portal_figures(partner),
        "form": form,
        "report": build_report(request.workspace, filters, partners=False),
        "expected_payout": metrics.expected_payout(partner, today=today()),
        "statements_url": _statements_url(request.workspace.slug),
        "recent_referrals": Referral.objects.for_workspace(request.workspace)
        .filter(partner=partner)
        .order_by("-created_at", "-id")[:5],
        "recent_commissions": Commission.objects.for_workspace(request.workspace)
        .filter(partner=partner)
        .order_by("-created_at", "-id")[:5],
    }
    if request.htmx and request.htmx.target == "portal-report":
        return render(request, "reporting/portal_home.html#report", context)
    return render(request, "reporting/portal_home.html", context)
