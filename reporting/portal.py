"""The partner portal's home page: it shows data of several apps, so it lives in reporting."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from partners.models import Partner
from partners.portal import PartnerRequest, partner_member


def portal_figures(partner: Partner) -> dict[str, Any]:
    """The funnel figures on the portal home. Zero until the referrals app supplies its counts."""
    return {"clicks": 0, "unique_clicks": 0, "leads": 0, "deals": 0}


@partner_member()
def portal_home(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    context = {
        "partner": partner,
        "program": partner.program,
        "figures": portal_figures(partner),
    }
    return render(request, "reporting/portal_home.html", context)
