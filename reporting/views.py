from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from accounts.tenancy import ANY_STAFF, FINANCE, MANAGERS, WorkspaceRequest, workspace_member
from partners import selectors as partner_selectors
from partners.forms import GroupChoiceForm, NotesForm
from partners.payout_methods import current_payout_method
from partners.tax_forms import tax_form_on_file
from reporting import metrics
from reporting.filters import filters_from_request
from reporting.reports.build import build_report
from reporting.setup_checklist import setup_checklist


@workspace_member()
def dashboard(request: WorkspaceRequest) -> HttpResponse:
    """The manager dashboard: the funnel, money and partners for the filters in the query string.
    Until the first partner arrives it also guides the first steps."""
    workspace = request.workspace
    form, filters = filters_from_request(request.GET, workspace=workspace)
    context = {
        "form": form,
        "report": build_report(workspace, filters),
        "querystring": form.querystring(),
        "can_manage": request.membership.role in MANAGERS,
        "has_partners": metrics.partner_count(workspace) > 0,
    }
    if request.htmx:
        return render(request, "reporting/dashboard.html#body", context)
    if not context["has_partners"]:
        context["setup_steps"] = setup_checklist(workspace=workspace)
    return render(request, "reporting/dashboard.html", context)


@workspace_member(ANY_STAFF)
def partner_detail(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    """One partner as the manager sees it: profile and status actions here; links, codes, clicks and
    referrals are added by the referrals app into the template's marked slots."""
    partner = partner_selectors.get_partner_or_404(request.workspace, partner_id)
    form, filters = filters_from_request(request.GET, workspace=request.workspace, partner=partner)
    analytics = {
        "form": form,
        "report": build_report(request.workspace, filters, partners=False, links=True),
        "querystring": form.querystring(partner=partner.pk),
    }
    if request.htmx and request.htmx.target == "partner-analytics":
        return render(
            request,
            "reporting/components/partner_analytics.html#analytics",
            {"partner": partner, "analytics": analytics},
        )
    context = {
        "analytics": analytics,
        "partner": partner,
        "can_manage": request.membership.role in MANAGERS,
        # Bank and PayPal details are for the people who pay: owners and finance (README, roles).
        "can_see_payout_details": request.membership.role in FINANCE,
        # Everyone on the page sees how the partner is paid, masked; the full details are one click on for finance.
        "payout_method": current_payout_method(partner),
        "tax_form": next(iter(tax_form_on_file(request.workspace, [partner.pk]).values()), None),
        "portal_logins": partner_selectors.portal_logins(partner=partner),
        "open_invitation": partner_selectors.open_invitation(partner=partner),
        "history": partner_selectors.partner_history(partner=partner),
        "group_form": GroupChoiceForm(initial={"group": partner.group_id}, workspace=request.workspace),
        "notes_form": NotesForm(initial={"notes": partner.notes}),
    }
    return render(request, "reporting/partner_detail.html", context)
