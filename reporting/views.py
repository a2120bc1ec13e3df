from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import ApiKey, AuditLogEntry, Domain, Membership
from accounts.tenancy import MANAGERS, WorkspaceRequest, workspace_member


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
