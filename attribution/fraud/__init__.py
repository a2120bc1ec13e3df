"""Fraud review: explainable risk scores on commissions, a review queue, and partners under review.

Lower apps and reporting ask one question of it: which partners are under review (flagged by a
manager, or with commissions waiting for review), so that nobody pays them meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Workspace
from attribution.models import Commission, PartnerFlag


def flagged_partner_ids(workspace: Workspace, partner_ids: Iterable[int]) -> set[int]:
    """The partners among `partner_ids` under fraud review: flagged, or with a commission in review."""
    ids = set(partner_ids)
    if not ids:
        return set()
    flagged = set(
        PartnerFlag.objects.for_workspace(workspace).filter(partner_id__in=ids).values_list("partner_id", flat=True)
    )
    in_review = set(
        Commission.objects.for_workspace(workspace)
        .filter(partner_id__in=ids - flagged, status=Commission.Status.IN_REVIEW)
        .values_list("partner_id", flat=True)
        .distinct()
    )
    return flagged | in_review


__all__ = ["flagged_partner_ids"]
