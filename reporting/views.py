from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import ApiKey, AuditLogEntry, Domain, Membership
from accounts.tenancy import ANY_STAFF, MANAGERS, WorkspaceRequest, workspace_member
from partners import selectors as partner_selectors
from partners.forms import GroupChoiceForm, NotesForm


@workspace_member()
def dashboard(request: WorkspaceRequest) -> HttpResponse:
    """The manager dashboard. Until partners and sales arrive it guides the first steps."""
    workspace = request.workspace
    context = {
        "domain_count": Domain.objects.for_workspace(workspace).count(),
        "member_count": Membership.objects.for_workspace(workspace).count(),
        "api_key_count": ApiKey.objects.for_workspace(workspace).filter(revoked_at__isnull=True).count(),
        "can_manage": request.membership.role in MANAGERS,
        "recent_activity": AuditLogEntry.objects.for_workspace(workspace).select_related("actor")[:8],
    }
    return render(request, "reporting/dashboard.html", context)


@workspace_member(ANY_STAFF)
def partner_detail(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    """One partner as the manager sees it: profile and status actions here; links, codes, clicks and
    referrals are added by the referrals app into the template's marked slots."""
    partner = partner_selectors.get_partner_or_404(request.workspace, partner_id)
    context = {
        "partner": partner,
        "can_manage": request.membership.role in MANAGERS,
        "portal_logins": partner_selectors.portal_logins(partner=partner),
        "open_invitation": partner_selectors.open_invitation(partner=partner),
        "history": partner_selectors.partner_history(partner=partner),
        "group_form": GroupChoiceForm(initial={"group": partner.group_id}, workspace=request.workspace),
        "notes_form": NotesForm(initial={"notes": partner.notes}),
    }
    return render(request, "reporting/partner_detail.html", context)
