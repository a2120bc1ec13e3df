"""The partner portal's home page: it shows data of several apps, so it lives in reporting."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from partners.models import Partner
from partners.portal import PartnerRequest, partner_member
from referrals.selectors import partner_funnel_counts


def portal_figures(partner: Partner) -> dict[str, Any]:
    """The funnel figures on the portal home: human clicks, unique clicks, leads and registered deals."""
    return partner_funnel_counts(partner.workspace, partner)


@partner_member()
def portal_home(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    context = {
        "partner": partner,
        "program": partner.program,
        "figures": portal_figures(partner),
    }
    return render(request, "reporting/portal_home.html", context)
