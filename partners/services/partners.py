"""Writes of partners: adding and inviting them, a manager's edits, the partner's own profile edits, and
the review and status changes (approve, reject, suspend, reactivate)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User, Workspace
from accounts.services import record_audit, send_templated_email
from partners.models import Partner, PartnerGroup, Program
from partners.outbound import emit_partner_created
from partners.services.arrivals import partner_joined
from partners.services.common import apply_changes, find_partner, normalize_email, require_same_workspace, set_status
from partners.services.invitations import open_invitation, send_portal_invitation, withdraw_partner_invitations
from partners.services.programs import ensure_default_program

PARTNER_FIELDS = (
    "name",
    "email",
    "company",
    "country",
    "program",
    "group",
    "notes",
    "external_id",
    "receives_reports",
)
PROFILE_FIELDS = ("company", "country", "receives_reports")


def _check_email_free(partner: Partner) -> None:
    clash = Partner.objects.for_workspace(partner.workspace).filter(
        program=partner.program, email__iexact=partner.email
    )
    if partner.pk:
        clash = clash.exclude(pk=partner.pk)
    if clash.exists():
        raise ValidationError({"email": [f"{partner.email} is already a partner in {partner.program.name}."]})


@transaction.atomic
def create_partner(
    *,
    workspace: Workspace,
    name: str,
    email: str,
    program: Program | None = None,
    group: PartnerGroup | None = None,
    company: str = "",
    country: str = "",
    external_id: str = "",
    status: str = Partner.Status.ACTIVE,
    by: User | None = None,
    actor_label: str | None = None,
    notify: bool = True,
) -> tuple[Partner, bool]:
    """A partner in `program` (the Default program when None), or the existing one with that email.

    Returns `(partner, created)`. An `invited` partner is emailed a portal invitation.
    """
    require_same_workspace(workspace, program=program, group=group)
    email = normalize_email(email)
    if status not in (Partner.Status.ACTIVE, Partner.Status.INVITED):
        raise ValidationError({"status": ["Use active or invited."]})
    program = program or ensure_default_program(workspace=workspace)
    existing = find_partner(workspace, program, email)
    if existing is not None:
        return existing, False
    partner = Partner(
        workspace=workspace,
        program=program,
        group=group,
        name=(name or "").strip(),
        email=email,
        company=(company or "").strip(),
        country=(country or "").strip().upper(),
        external_id=(external_id or "").strip(),
        status=status,
    )
    partner.full_clean(exclude=["workspace", "program", "group"], validate_constraints=False)
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError:
        # Two requests with the same email raced; the other one made the partner.
        existing = find_partner(workspace, program, email)
        if existing is None:
            raise
        return existing, False
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=actor_label,
        action="partner.created",
        target=partner,
        changes={"status": [None, status], "program": [None, program.name]},
    )
    partner_joined(partner)
    emit_partner_created(partner)
    if status == Partner.Status.INVITED:
        open_invitation(partner, invited_by=by, notify=notify)
    return partner, True


@transaction.atomic
def invite_partner(
    *,
    workspace: Workspace,
    email: str,
    name: str,
    invited_by: User | None,
    program: Program | None = None,
    group: PartnerGroup | None = None,
    company: str = "",
    notify: bool = True,
) -> Partner:
    """Invite someone to become a partner; they get an email with a link to set up their portal login.

    Inviting an address that is already an invited (or active, without a login) partner of the
    program sends the invitation again.
    """
    program = program or ensure_default_program(workspace=workspace)
    email = normalize_email(email)
    existing = find_partner(workspace, program, email)
    if existing is None:
        partner, _ = create_partner(
            workspace=workspace,
            name=name,
            email=email,
            program=program,
            group=group,
            company=company,
            status=Partner.Status.INVITED,
            by=invited_by,
            notify=notify,
        )
        return partner
    send_portal_invitation(partner=existing, by=invited_by, notify=notify)
    return existing


@transaction.atomic
def update_partner(*, partner: Partner, by: User | None, **fields: Any) -> Partner:
    """A manager's edit of a partner's profile; the audit entry lists what changed."""
    require_same_workspace(partner.workspace, program=fields.get("program"), group=fields.get("group"))
    if "email" in fields:
        fields["email"] = normalize_email(fields["email"])
    if "country" in fields:
        fields["country"] = (fields["country"] or "").strip().upper()
    changes = apply_changes(partner, fields, PARTNER_FIELDS)
    if not changes:
        return partner
    partner.full_clean(exclude=["workspace"], validate_constraints=False)
    _check_email_free(partner)
    partner.save(update_fields=[*changes, "updated_at"])
    if "email" in changes:
        # An invitation belongs to the address it was sent to; the new address gets a new one on resend.
        withdraw_partner_invitations(partner)
    record_audit(workspace=partner.workspace, actor=by, action="partner.updated", target=partner, changes=changes)
    return partner


@transaction.atomic
def update_partner_profile(*, partner: Partner, user: User, **fields: Any) -> Partner:
    """The partner's own edit in the portal: only the fields a partner may change about themselves."""
    if "country" in fields:
        fields["country"] = (fields["country"] or "").strip().upper()
    changes = apply_changes(partner, fields, PROFILE_FIELDS)
    if not changes:
        return partner
    partner.full_clean(exclude=["workspace", "program", "group"], validate_constraints=False)
    partner.save(update_fields=[*changes, "updated_at"])
    record_audit(
        workspace=partner.workspace, actor=user, action="partner.profile_updated", target=partner, changes=changes
    )
    return partner


def _require_status(partner: Partner, allowed: tuple[str, ...], verb: str) -> None:
    # Lock the row and re-read its status: a double submit waits here, then sees the first one's
    # result, so it sends no second email and writes no second audit entry.
    partner.status = (
        Partner.objects.for_workspace(partner.workspace)
        .select_for_update()
        .values_list("status", flat=True)
        .get(pk=partner.pk)
    )
    if partner.status not in allowed:
        raise ValidationError(f"{partner.name} is {partner.get_status_display().lower()}; it cannot be {verb}.")


@transaction.atomic
def approve_partner(*, partner: Partner, by: User | None, notify: bool = True) -> Partner:
    """Accept an application: the partner becomes active and is emailed a link to set up their portal login."""
    _require_status(partner, (Partner.Status.PENDING,), "approved")
    partner.rejection_reason = ""
    set_status(partner, Partner.Status.ACTIVE, by=by, action="partner.approved")
    partner_joined(partner)
    open_invitation(partner, invited_by=by, notify=notify, reason="approval")
    return partner


@transaction.atomic
def reject_partner(*, partner: Partner, reason: str, by: User | None, notify: bool = True) -> Partner:
    """Turn down an application; the applicant is emailed the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why, so the applicant knows; they receive this text."]})
    _require_status(partner, (Partner.Status.PENDING,), "rejected")
    partner.rejection_reason = reason
    set_status(partner, Partner.Status.REJECTED, by=by, action="partner.rejected", extra={"reason": reason})
    withdraw_partner_invitations(partner)
    if notify:
        transaction.on_commit(lambda: _send_rejection(partner))
    return partner


@transaction.atomic
def suspend_partner(*, partner: Partner, by: User | None) -> Partner:
    """Stop a partner earning: their links keep redirecting but no longer credit them (`Partner.earns`)."""
    _require_status(partner, (Partner.Status.ACTIVE, Partner.Status.INVITED), "suspended")
    set_status(partner, Partner.Status.SUSPENDED, by=by, action="partner.suspended")
    return partner


@transaction.atomic
def reactivate_partner(*, partner: Partner, by: User | None) -> Partner:
    _require_status(partner, (Partner.Status.SUSPENDED,), "reactivated")
    set_status(partner, Partner.Status.ACTIVE, by=by, action="partner.reactivated")
    return partner


@transaction.atomic
def change_partner_group(*, partner: Partner, group: PartnerGroup | None, by: User | None) -> Partner:
    return update_partner(partner=partner, by=by, group=group)


def _send_rejection(partner: Partner) -> None:
    send_templated_email(
        to=partner.email,
        subject=f"Your application to {partner.workspace.name}'s partner program",
        template="partners/email/application_rejected",
        context={"partner": partner},
        from_business=partner.workspace,
    )
