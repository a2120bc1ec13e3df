"""What a report can be filtered by: the workspace's currencies, channels, groups and programs."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.models import Workspace
from partners.models import Partner, PartnerGroup, Program

# --- What a report can be filtered by ------------------------------------------------------


def currencies(workspace: Workspace) -> list[str]:
    return sorted(set(Program.objects.for_workspace(workspace).values_list("currency", flat=True)))


def default_currency(workspace: Workspace, program_id: int | None = None) -> str:
    """The program's currency when one is chosen, else the currency most of the workspace's partners earn in."""
    programs = Program.objects.for_workspace(workspace)
    if program_id is not None:
        program = programs.filter(pk=program_id).first()
        if program is not None:
            return program.currency
    top = (
        Partner.objects.for_workspace(workspace)
        .values("program__currency")
        .annotate(n=Count("id"))
        .order_by("-n", "program__currency")
        .first()
    )
    if top:
        return top["program__currency"]
    first = programs.order_by("id").first()
    return first.currency if first else "USD"


def channels(workspace: Workspace) -> list[str]:
    """Every channel label a link or code of the workspace carries (blank ones excepted)."""
    from referrals.models import Link, ReferralCode

    # DISTINCT in the database: a workspace has thousands of links but a handful of channels.
    links = Link.objects.for_workspace(workspace).exclude(channel="").order_by().values_list("channel", flat=True)
    codes = (
        ReferralCode.objects.for_workspace(workspace).exclude(channel="").order_by().values_list("channel", flat=True)
    )
    names = set(links.distinct()) | set(codes.distinct())
    return sorted(names, key=str.lower)


def groups(workspace: Workspace) -> QuerySet[PartnerGroup]:
    return PartnerGroup.objects.for_workspace(workspace).order_by("name")


def programs(workspace: Workspace) -> QuerySet[Program]:
    return Program.objects.for_workspace(workspace).order_by("name")


def partner_count(workspace: Workspace) -> int:
    return Partner.objects.for_workspace(workspace).count()
