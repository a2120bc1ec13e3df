"""The review queue's decisions: clear or reject held commissions, flag or unflag a partner, and a
partner's one reply. Every decision is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from attribution.models import Commission, PartnerFlag, ReviewReply
from attribution.notify import tell_partners_of_commissions
from attribution.services import reject_commissions
from core.text import unusable_character
from partners.models import Partner

REPLY_MAX = 2000


def held_commissions(workspace: Workspace) -> QuerySet[Commission]:
    return Commission.objects.for_workspace(workspace).filter(status=Commission.Status.IN_REVIEW)


@transaction.atomic
def clear_commissions(
    *, workspace: Workspace, ids: Iterable[int], note: str = "", by: User | None, now: datetime | None = None
) -> list[int]:
    """Release held commissions: pending again, or approved when their hold has already ended."""
    now = now or timezone.now()
    rows = list(
        held_commissions(workspace)
        .filter(pk__in=list(ids))
        .select_for_update()
        .order_by("id")
        .values_list("id", "hold_until")
    )
    if not rows:
        return []
    cleared = [pk for pk, _ in rows]
    mine = Commission.objects.for_workspace(workspace).filter(pk__in=cleared)
    mine.filter(hold_until__lte=now).update(status=Commission.Status.APPROVED, approved_at=now, approved_by=by)
    mine.filter(hold_until__gt=now).update(status=Commission.Status.PENDING)
    # A held commission was not announced to its partner; cleared, it is earned, so now it is.
    tell_partners_of_commissions(
        workspace_id=workspace.pk,
        commissions=[
            dict(row) for row in mine.values("id", "partner_id", "amount", "currency", "explanation", "hold_until")
        ],
    )
    record_audit(
        workspace=workspace,
        actor=by,
        action="commission.review_cleared",
        changes={
            "count": len(cleared),
            "ids": cleared[:50],
            "approved": [pk for pk, hold in rows if hold <= now][:50],
            "note": note.strip(),
        },
    )
    return cleared


def reject_held_commissions(*, workspace: Workspace, ids: Iterable[int], reason: str, by: User | None) -> list[int]:
    """Reject held commissions with a reason the partner reads (the ledger takes the amounts back)."""
    held = list(held_commissions(workspace).filter(pk__in=list(ids)).values_list("id", flat=True))
    if not reason.strip():
        raise ValidationError({"reason": ["Tell the partner why; they will see this reason."]})
    if not held:
        return []
    return reject_commissions(workspace=workspace, ids=held, reason=reason, by=by)


def flag_partner(*, workspace: Workspace, partner: Partner, reason: str, by: User | None) -> PartnerFlag:
    """Put a partner under review: its new commissions are held, and payout runs skip it."""
    flag, created = PartnerFlag.objects.get_or_create(
        workspace=workspace, partner_id=partner.pk, defaults={"reason": reason.strip(), "flagged_by": by}
    )
    if created:
        record_audit(
            workspace=workspace, actor=by, action="partner.flagged", target=partner, changes={"reason": reason.strip()}
        )
    return flag


def unflag_partner(*, workspace: Workspace, partner: Partner, by: User | None) -> bool:
    deleted, _ = PartnerFlag.objects.for_workspace(workspace).filter(partner_id=partner.pk).delete()
    if deleted:
        record_audit(workspace=workspace, actor=by, action="partner.unflagged", target=partner)
    return bool(deleted)


def is_flagged(workspace: Workspace, partner_id: int) -> bool:
    return PartnerFlag.objects.for_workspace(workspace).filter(partner_id=partner_id).exists()


def reply_to_review(*, workspace: Workspace, commission: Commission, message: str, by: User | None) -> ReviewReply:
    """The partner's one explanation of a held commission; a second reply is refused."""
    message = message.strip()
    if not message:
        raise ValidationError({"message": ["Write your explanation."]})
    if len(message) > REPLY_MAX:
        raise ValidationError({"message": [f"Keep it under {REPLY_MAX} characters."]})
    problem = unusable_character(message)
    if problem:
        raise ValidationError({"message": [problem]})
    if commission.status != Commission.Status.IN_REVIEW:
        raise ValidationError({"message": ["This commission is not under review any more."]})
    reply, created = ReviewReply.objects.get_or_create(
        workspace=workspace, commission_id=commission.pk, defaults={"message": message, "replied_by": by}
    )
    if not created:
        raise ValidationError({"message": ["You have already explained this commission."]})
    record_audit(
        workspace=workspace,
        actor=by,
        action="commission.review_reply",
        target=commission,
        changes={"length": len(message)},
    )
    return reply
