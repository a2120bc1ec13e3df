"""Global search for staff: one box in the header finds partners (name, email, company), customers
(their id in the business's systems, or their email), links and referral codes (by code) and inbound
events (by event id), in the signed-in workspace only.

It is reporting's because it reads partners, referrals and attribution (DESIGN.md: the rightmost app).
Each group is one query with a LIMIT, and the exact-match groups ride the unique indexes (link code,
referral code per workspace, event id per workspace, customer id per program), so a search stays fast
however many clicks and events a workspace holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import Workspace
from accounts.tenancy import ANY_STAFF, WorkspaceRequest, workspace_member
from attribution.models import InboundEvent
from partners.models import Partner, Program
from referrals.models import Link, Referral, ReferralCode

PER_GROUP = 10
MIN_LENGTH = 2
MAX_LENGTH = 200


@dataclass
class SearchResults:
    query: str
    partners: list[Partner] = field(default_factory=list)
    customers: list[Referral] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    codes: list[ReferralCode] = field(default_factory=list)
    events: list[InboundEvent] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.partners) + len(self.customers) + len(self.links) + len(self.codes) + len(self.events)


def search_workspace(*, workspace: Workspace, query: str, limit: int = PER_GROUP) -> SearchResults:
    """What matches `query` in the workspace, at most `limit` of each kind. Too short a query finds nothing."""
    query = " ".join(query.split())[:MAX_LENGTH]
    results = SearchResults(query=query)
    if len(query) < MIN_LENGTH:
        return results
    results.partners = list(
        Partner.objects.for_workspace(workspace)
        .filter(Q(name__icontains=query) | Q(email__icontains=query) | Q(company__icontains=query))
        .select_related("program")
        .order_by("name", "pk")[:limit]
    )
    # Exact matches: the customer id within the workspace's programs (the unique index's order), or the email.
    programs = list(Program.objects.for_workspace(workspace).values_list("pk", flat=True))
    customer_match = Q(program_id__in=programs, customer_external_id=query)
    if "@" in query:
        customer_match |= Q(customer_email=query.lower())
    results.customers = list(
        Referral.objects.for_workspace(workspace)
        .filter(customer_match)
        .select_related("partner")
        .order_by("-pk")[:limit]
    )
    results.links = list(
        Link.objects.for_workspace(workspace).filter(code=query.lower()).select_related("partner")[:limit]
    )
    results.codes = list(
        ReferralCode.objects.for_workspace(workspace)
        .annotate(code_lower=Lower("code"))
        .filter(code_lower=query.lower())
        .select_related("partner")[:limit]
    )
    results.events = list(InboundEvent.objects.for_workspace(workspace).filter(event_id=query)[:limit])
    return results


@workspace_member(ANY_STAFF)
def staff_search(request: WorkspaceRequest) -> HttpResponse:
    """The header's search box: grouped results, each linking to where the thing is managed."""
    results = search_workspace(workspace=request.workspace, query=request.GET.get("q", ""))
    return render(request, "reporting/search.html", {"results": results, "too_short": len(results.query) < MIN_LENGTH})
