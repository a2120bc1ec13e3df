"""Changes a manager makes to many partners at once from the partner list: move to a group, suspend,
reactivate, and a message by email. Each partner goes through the same service as a change made on its
own page (same checks, same audit entry); a partner the change does not apply to is skipped, not an error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User, Workspace
from accounts.services import record_audit, send_templated_email
from core.text import unusable_character
from partners.models import Partner, PartnerGroup
from partners.services.common import require_same_workspace
from partners.services.partners import change_partner_group, reactivate_partner, suspend_partner

MESSAGE_SUBJECT_MAX = 150
MESSAGE_BODY_MAX = 5000


@dataclass
class BulkOutcome:
    """Who was changed and who was skipped (with the reason a manager reads)."""

    done: list[Partner] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _selected(workspace: Workspace, ids: Iterable[int]) -> list[Partner]:
    """The selected partners of this workspace; ids of another workspace are simply not found."""
    return list(
        Partner.objects.for_workspace(workspace)
        .filter(pk__in=set(ids))
        .select_related("program", "group")
        .order_by("pk")
    )


def _each(workspace: Workspace, ids: Iterable[int], change: Callable[[Partner], object]) -> BulkOutcome:
    outcome = BulkOutcome()
    for partner in _selected(workspace, ids):
        try:
            with transaction.atomic():
                change(partner)
        except ValidationError as exc:
            outcome.skipped.append(" ".join(exc.messages))
        else:
            outcome.done.append(partner)
    return outcome


def suspend_partners(*, workspace: Workspace, ids: Iterable[int], by: User | None) -> BulkOutcome:
    """Suspend the selected active or invited partners; the others are skipped."""
    return _each(workspace, ids, lambda p: suspend_partner(partner=p, by=by))


def reactivate_partners(*, workspace: Workspace, ids: Iterable[int], by: User | None) -> BulkOutcome:
    """Reactivate the selected suspended partners; the others are skipped."""
    return _each(workspace, ids, lambda p: reactivate_partner(partner=p, by=by))


def move_partners_to_group(
    *, workspace: Workspace, ids: Iterable[int], group: PartnerGroup | None, by: User | None
) -> BulkOutcome:
    """Put the selected partners in `group` (None takes them out of any group); those already there are
    left alone, so repeating the move changes and audits nothing."""
    require_same_workspace(workspace, group=group)
    target = group.pk if group else None
    outcome = BulkOutcome()
    for partner in _selected(workspace, ids):
        if partner.group_id != target:
            change_partner_group(partner=partner, group=group, by=by)
        outcome.done.append(partner)
    return outcome


def message_partners(
    *, workspace: Workspace, ids: Iterable[int], subject: str, body: str, by: User | None
) -> BulkOutcome:
    """Email a manager's message to each selected partner (not to rejected applicants), and audit it
    on each partner's history."""
    subject, body = (subject or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not subject:
        errors["subject"] = ["Write a subject."]
    elif len(subject) > MESSAGE_SUBJECT_MAX or "\n" in subject:
        errors["subject"] = [f"Keep the subject to one line of at most {MESSAGE_SUBJECT_MAX} characters."]
    if not body:
        errors["body"] = ["Write the message."]
    elif len(body) > MESSAGE_BODY_MAX:
        errors["body"] = [f"Keep the message under {MESSAGE_BODY_MAX} characters."]
    for name, value in (("subject", subject), ("body", body)):
        problem = unusable_character(value)
        if problem:
            errors.setdefault(name, [problem])
    if errors:
        raise ValidationError(errors)
    outcome = BulkOutcome()
    for partner in _selected(workspace, ids):
        if partner.status == Partner.Status.REJECTED:
            outcome.skipped.append(f"{partner.name} was not accepted into the program, so it was not written to.")
            continue
        record_audit(
            workspace=workspace, actor=by, action="partner.messaged", target=partner, changes={"subject": subject}
        )
        transaction.on_commit(partial(_send_message, partner, subject=subject, body=body))
        outcome.done.append(partner)
    return outcome


def _send_message(partner: Partner, *, subject: str, body: str) -> None:
    send_templated_email(
        to=partner.email,
        subject=subject,
        template="partners/email/message",
        context={"partner": partner, "subject": subject, "body": body},
        from_business=partner.workspace,
    )
