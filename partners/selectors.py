"""Reads of the partners app. Every query starts from a workspace; the `*_or_404` helpers are the
one way a view loads a program, group or partner, so another workspace's row is simply not found."""

from __future__ import annotations

from django.db.models import Case, Count, Q, QuerySet, When
from django.http import Http404

from accounts.models import AuditLogEntry, User, Workspace
from accounts.tenancy import get_for_workspace_or_404
from partners.models import Partner, PartnerGroup, PartnerInvitation, PartnerUser, Program
from partners.services import DEFAULT_PROGRAM_SLUG

# --- One access path per object kind -------------------------------------------------------


def get_partner_or_404(workspace: Workspace, partner_id: int) -> Partner:
    return get_for_workspace_or_404(Partner.objects.select_related("program", "group"), workspace, pk=partner_id)


def get_program_or_404(workspace: Workspace, program_id: int) -> Program:
    return get_for_workspace_or_404(Program.objects, workspace, pk=program_id)


def get_group_or_404(workspace: Workspace, group_id: int) -> PartnerGroup:
    return get_for_workspace_or_404(PartnerGroup.objects, workspace, pk=group_id)


def get_public_program_or_404(*, workspace_slug: str, program_slug: str) -> Program:
    """A program that takes public applications; any other (or unknown) program is a 404."""
    program = (
        Program.objects.select_related("workspace")
        .filter(workspace__slug=workspace_slug, slug=program_slug, public_applications=True)
        .first()
    )
    if program is None:
        raise Http404("No such program, or it does not take applications.")
    return program


# --- Lists --------------------------------------------------------------------------------


def programs(*, workspace: Workspace) -> QuerySet[Program]:
    """The workspace's programs, Default first, with how many partners each has."""
    return (
        Program.objects.for_workspace(workspace)
        .annotate(partner_count=Count("partners"))
        .order_by(Case(When(slug=DEFAULT_PROGRAM_SLUG, then=0), default=1), "name")
    )


def groups(*, workspace: Workspace) -> QuerySet[PartnerGroup]:
    return PartnerGroup.objects.for_workspace(workspace).annotate(partner_count=Count("partners")).order_by("name")


def partner_list(
    *,
    workspace: Workspace,
    search: str = "",
    status: str = "",
    group_id: int | None = None,
    program_id: int | None = None,
) -> QuerySet[Partner]:
    """Partners matching a free-text search (name, email, company) and optional filters, by name."""
    qs = Partner.objects.for_workspace(workspace).select_related("program", "group")
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(email__icontains=search) | Q(company__icontains=search))
    if status:
        qs = qs.filter(status=status)
    if group_id:
        qs = qs.filter(group_id=group_id)
    if program_id:
        qs = qs.filter(program_id=program_id)
    return qs.order_by("name", "pk")


def pending_applications(*, workspace: Workspace) -> QuerySet[Partner]:
    """Applications waiting for review, oldest first so nobody waits longest."""
    return (
        Partner.objects.for_workspace(workspace)
        .filter(status=Partner.Status.PENDING)
        .select_related("program")
        .order_by("created_at", "pk")
    )


def pending_application_count(*, workspace: Workspace) -> int:
    return Partner.objects.for_workspace(workspace).filter(status=Partner.Status.PENDING).count()


def portal_logins(*, partner: Partner) -> QuerySet[PartnerUser]:
    return PartnerUser.objects.for_workspace(partner.workspace).filter(partner=partner).select_related("user")


def open_invitation(*, partner: Partner) -> PartnerInvitation | None:
    return (
        PartnerInvitation.objects.for_workspace(partner.workspace)
        .filter(partner=partner, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )


# --- The signed-in person's partner logins ----------------------------------------------


def partner_logins_of(*, user: User) -> list[PartnerUser]:
    """Every portal a person can enter: one row per partner they sign in as, across workspaces."""
    return list(
        PartnerUser.objects.across_workspaces("a person's own portal logins")
        .filter(user=user)
        .select_related("workspace", "partner")
        .order_by("workspace__name", "partner__name", "pk")
    )


def partner_logins_in(*, user: User, workspace_slug: str) -> list[PartnerUser]:
    return list(
        PartnerUser.objects.filter(user=user, workspace__slug=workspace_slug)
        .select_related("workspace", "partner", "partner__program", "partner__group")
        .order_by("partner__name", "pk")
    )


def partner_history(*, partner: Partner, limit: int = 10) -> QuerySet[AuditLogEntry]:
    """The latest audit entries about this partner (status changes, edits, invitations)."""
    return (
        AuditLogEntry.objects.for_workspace(partner.workspace)
        .filter(target_type=Partner.__name__, target_id=str(partner.pk))
        .select_related("actor")[:limit]
    )
