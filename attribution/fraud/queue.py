"""Reads of the review queue: held commissions with their replies, flagged partners."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Workspace
from attribution import selectors
from attribution.models import Commission, PartnerFlag, ReviewReply
from partners.models import Partner


def review_queue(workspace: Workspace, filters: dict[str, Any]) -> QuerySet[Commission]:
    """Held commissions, riskiest first, narrowed by the queue's filters."""
    replies = ReviewReply.objects.filter(workspace=workspace, commission_id=OuterRef("pk"))
    rows = (
        selectors.commissions(workspace, status=Commission.Status.IN_REVIEW)
        .annotate(replied=Exists(replies))
        .order_by("-risk_score", "-created_at", "-id")
    )
    if filters.get("program"):
        rows = rows.filter(program=filters["program"])
    if filters.get("partner"):
        rows = rows.filter(partner=filters["partner"])
    if filters.get("min_score") is not None:
        rows = rows.filter(risk_score__gte=filters["min_score"])
    if filters.get("replied") == "yes":
        rows = rows.filter(replied=True)
    elif filters.get("replied") == "no":
        rows = rows.filter(replied=False)
    return rows


def replies_of(workspace: Workspace, commission_ids: list[int]) -> dict[int, ReviewReply]:
    return {
        r.commission_id: r
        for r in ReviewReply.objects.for_workspace(workspace).filter(commission_id__in=commission_ids)
    }


def reply_of(workspace: Workspace, commission: Commission) -> ReviewReply | None:
    return ReviewReply.objects.for_workspace(workspace).filter(commission_id=commission.pk).first()


@dataclass(frozen=True)
class FlaggedPartner:
    partner: Partner
    flag: PartnerFlag


def flagged_partners(workspace: Workspace) -> list[FlaggedPartner]:
    flags = {f.partner_id: f for f in PartnerFlag.objects.for_workspace(workspace).select_related("flagged_by")}
    partners = Partner.objects.for_workspace(workspace).filter(pk__in=list(flags)).order_by("name")
    return [FlaggedPartner(p, flags[p.pk]) for p in partners]


def flagged_ids(workspace: Workspace, partner_ids: list[int]) -> set[int]:
    return set(
        PartnerFlag.objects.for_workspace(workspace)
        .filter(partner_id__in=partner_ids)
        .values_list("partner_id", flat=True)
    )
