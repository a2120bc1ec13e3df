"""The partner portal's commissions pages: a partner sees only its own commissions, and why each was earned."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from attribution import selectors
from attribution.explain import explanation_lines
from attribution.fraud.devices import remember_partner_device
from attribution.fraud.forms import ReplyForm
from attribution.fraud.queue import reply_of
from attribution.models import Commission
from partners.portal import PartnerRequest, partner_member

PAGE_SIZE = 50


@partner_member()
def portal_commissions(request: PartnerRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Commission.Status.values:
        status = ""
    remember_partner_device(request, request.partner)
    rows = selectors.partner_commissions(request.workspace, request.partner, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for commission in page.object_list:
        commission.lines = explanation_lines(  # type: ignore[attr-defined]
            commission.explanation, held=commission.status == Commission.Status.IN_REVIEW, for_partner=True
        )
    return render(
        request,
        "attribution/portal_commissions.html",
        {
            "page": page,
            "status": status,
            "statuses": Commission.Status.choices,
            "totals": selectors.commission_totals(request.workspace, partner=request.partner),
        },
    )


@partner_member()
def portal_commission_detail(request: PartnerRequest, commission_id: int) -> HttpResponse:
    commission = selectors.get_commission_or_404(request.workspace, commission_id, partner=request.partner)
    remember_partner_device(request, request.partner)
    return render(
        request,
        "attribution/portal_commission_detail.html",
        {
            "commission": commission,
            "lines": explanation_lines(
                commission.explanation, held=commission.status == Commission.Status.IN_REVIEW, for_partner=True
            ),
            "reversals": selectors.reversals_of_commission(request.workspace, commission),
            "reply": reply_of(request.workspace, commission),
            "reply_form": ReplyForm(),
        },
    )
