"""Writes of coupon-style referral codes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from partners.models import Partner
from referrals.models import ReferralCode
from referrals.services._common import _actor_label, _check_partner
from referrals.validation import generate_code, normalize_code


def normalize_referral_code(raw: str) -> str:
    """Check a coupon code as typed (its case is kept for display; uniqueness ignores case)."""
    code = (raw or "").strip()
    normalize_code(code.lower(), what="referral code")  # same character rules as link codes
    return code


def _generated_referral_code(partner: Partner) -> str:
    stem = "".join(ch for ch in partner.name.upper() if ch.isascii() and ch.isalnum())[:10] or "PARTNER"
    return f"{stem}-{generate_code(4).upper()}"


def create_referral_code(
    *,
    workspace: Workspace,
    partner: Partner,
    code: str = "",
    channel: str = "",
    campaign: str = "",
    created_by: User | None = None,
    actor_label: str | None = None,
) -> ReferralCode:
    """Give a partner a coupon-style code, chosen or generated; unique in the workspace whatever its case."""
    errors: dict[str, list[str]] = {}
    try:
        _check_partner(workspace, partner)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    chosen = ""
    if code and code.strip():
        try:
            chosen = normalize_referral_code(code)
        except ValidationError as exc:
            errors["code"] = exc.messages
    if errors:
        raise ValidationError(errors)
    for _attempt in range(8):
        candidate = chosen or _generated_referral_code(partner)
        if ReferralCode.objects.for_workspace(workspace).filter(code__iexact=candidate).exists():
            if chosen:
                raise ValidationError({"code": [f"The code “{chosen}” is already in use in this workspace."]})
            continue
        try:
            with transaction.atomic():
                row = ReferralCode.objects.create(
                    workspace=workspace,
                    program_id=partner.program_id,
                    partner=partner,
                    code=candidate,
                    channel=channel.strip(),
                    campaign=campaign.strip(),
                    created_by=created_by,
                )
        except IntegrityError:
            if chosen:
                raise ValidationError({"code": [f"The code “{chosen}” is already in use in this workspace."]}) from None
            continue
        break
    else:  # pragma: no cover
        raise ValidationError({"code": ["Could not find a free code; try again."]})
    record_audit(
        workspace=workspace,
        actor=created_by,
        actor_label=_actor_label(created_by, actor_label),
        action="referral_code.created",
        target=row,
        changes={"partner": partner.name},
    )
    return row


def archive_referral_code(*, code: ReferralCode, by: User | None) -> ReferralCode:
    """A retired code no longer credits its partner; past referrals keep it."""
    if code.archived_at is None:
        code.archived_at = timezone.now()
        code.save(update_fields=["archived_at"])
        record_audit(workspace=code.workspace, actor=by, action="referral_code.archived", target=code)
    return code
