"""Each partner's choice of emails: read, change, and turn one kind off (the unsubscribe link)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from partners.models import Partner
from partners.notifications.models import Kind, NotificationPreference

# What a partner gets before it chooses: everything but the weekly summary, which it asks for.
DEFAULTS: dict[str, bool] = {kind: kind != Kind.WEEKLY_DIGEST for kind in Kind.values}
# What an email is about, as the unsubscribe link names it ("emails about …").
TOPICS: dict[str, str] = {
    Kind.NEW_REFERRAL: "new referrals",
    Kind.NEW_COMMISSION: "new commissions",
    Kind.STATEMENT_ISSUED: "your statements",
    Kind.PAYOUT_MADE: "payouts",
    Kind.ANNOUNCEMENT: "announcements",
    Kind.WEEKLY_DIGEST: "your weekly summary",
}
# What the portal says about each kind, in the order it lists them.
DESCRIPTIONS: dict[str, str] = {
    Kind.NEW_REFERRAL: "When someone you referred signs up.",
    Kind.NEW_COMMISSION: "When you earn a commission, with what it was for.",
    Kind.STATEMENT_ISSUED: "When your commission statement is ready (with the PDF).",
    Kind.PAYOUT_MADE: "When a payout to you is recorded as paid.",
    Kind.ANNOUNCEMENT: "News and offers from the program's managers.",
    Kind.WEEKLY_DIGEST: "On Mondays: your clicks, referrals and commissions of the last 7 days.",
}


def choices_of(partner: Partner) -> dict[str, bool]:
    """{kind: wanted} for every kind, the defaults where the partner has not chosen."""
    row = NotificationPreference.objects.filter(workspace_id=partner.workspace_id, partner_id=partner.pk).first()
    if row is None:
        return dict(DEFAULTS)
    return {kind: bool(getattr(row, kind)) for kind in Kind.values}


def wants(*, workspace_id: int, partner_id: int, kind: str) -> bool:
    row = (
        NotificationPreference.objects.filter(workspace_id=workspace_id, partner_id=partner_id)
        .values_list(Kind(kind).value, flat=True)
        .first()
    )
    return DEFAULTS[kind] if row is None else bool(row)


@transaction.atomic
def set_choices(*, partner: Partner, choices: dict[str, bool], by: User | None = None) -> dict[str, bool]:
    """Save the partner's choice of emails (kinds not named keep theirs); audited when something changed."""
    from accounts.services import record_audit

    before = choices_of(partner)
    after = {kind: bool(choices.get(kind, before[kind])) for kind in Kind.values}
    NotificationPreference.objects.update_or_create(
        workspace_id=partner.workspace_id, partner_id=partner.pk, defaults=after
    )
    changes = {kind: {"from": before[kind], "to": after[kind]} for kind in Kind.values if before[kind] != after[kind]}
    if changes:
        record_audit(
            workspace=partner.workspace,
            actor=by,
            actor_label=None if by else f"{partner.email} (email link)",
            action="partner.email_choices_changed",
            target=partner,
            changes=changes,
        )
    return after


def turn_off(*, partner: Partner, kind: str) -> bool:
    """The unsubscribe link's work: stop this kind of email. Whether it was on until now."""
    was_on = choices_of(partner)[kind]
    set_choices(partner=partner, choices={kind: False})
    return was_on
