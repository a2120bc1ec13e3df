"""Writes of the partners app: programs, groups, partners, invitations, applications and portal logins.

Every function here validates its input (raising `ValidationError` keyed by field name, so forms
and the API can show the error next to the field), writes, and records who did it in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User, Workspace
from accounts.services import record_audit, send_templated_email
from partners.models import Partner, PartnerGroup, PartnerInvitation, PartnerUser, Program

DEFAULT_PROGRAM_SLUG = "default"
DEFAULT_PROGRAM_NAME = "Default"
_INVITATION_SALT = "partners.partner-invitation"

PROGRAM_FIELDS = (
    "name",
    "currency",
    "attribution_window_days",
    "attribution_model",
    "hold_days",
    "minimum_payout",
    "deal_protection_days",
    "public_applications",
    "terms",
    "report_frequency",
)
PARTNER_FIELDS = (
    "name",
    "email",
    "company",
    "country",
    "program",
    "group",
    "payout_method",
    "payout_details",
    "notes",
    "external_id",
    "receives_reports",
)
PROFILE_FIELDS = ("company", "country", "payout_method", "payout_details", "receives_reports")
# Bank details are not for everyone who can read the audit log: the log says they changed, not to what.
_SECRET_FIELDS = frozenset({"payout_details"})


def invitation_max_age_days() -> int:
    return int(settings.PARTNER_INVITATION_MAX_AGE_DAYS)


def _audit_value(value: Any) -> Any:
    """A value as it can be stored in the audit log's JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return str(value)
    return value


def _apply_changes(obj: Any, data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """Set the given fields on `obj`; return `{field: [before, after]}` for those that changed."""
    changes: dict[str, list[Any]] = {}
    for field in fields:
        if field not in data:
            continue
        before, after = getattr(obj, field), data[field]
        if isinstance(after, str):
            # Browsers post textareas with CRLF; without this every save would "change" the terms.
            after = after.replace("\r\n", "\n")
        if before != after:
            setattr(obj, field, after)
            if field in _SECRET_FIELDS:
                changes[field] = ["(hidden)", "(changed)"]
            else:
                changes[field] = [_audit_value(before), _audit_value(after)]
    return changes


def normalize_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": ["Enter a valid email address, such as jo@example.com."]}) from exc
    return email


def _require_same_workspace(workspace: Workspace, **rows: Any) -> None:
    # Callers resolve rows through workspace-scoped lookups; this is the last line of defence.
    for field, row in rows.items():
        if row is not None and row.workspace_id != workspace.pk:
            raise ValidationError({field: ["Not found in this workspace."]})


# --- Programs ---------------------------------------------------------------------------


@transaction.atomic
def ensure_default_program(*, workspace: Workspace) -> Program:
    """The workspace's Default program, created on first use. Safe to call any number of times."""
    program, created = Program.objects.get_or_create(
        workspace=workspace, slug=DEFAULT_PROGRAM_SLUG, defaults={"name": DEFAULT_PROGRAM_NAME}
    )
    if created:
        record_audit(workspace=workspace, actor=None, actor_label="system", action="program.created", target=program)
    return program


def _unique_program_slug(workspace: Workspace, name: str) -> str:
    base = slugify(name)[:50] or "program"
    slug, n = base, 2
    while Program.objects.for_workspace(workspace).filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_program(*, workspace: Workspace, by: User | None, name: str, **fields: Any) -> Program:
    """A new program; its URL slug comes from the name and never changes afterwards (application links use it)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the program a name."]})
    program = Program(workspace=workspace, name=name, slug=_unique_program_slug(workspace, name))
    _apply_changes(program, fields, PROGRAM_FIELDS)
    program.full_clean(exclude=["workspace"])
    program.save()
    record_audit(
        workspace=workspace, actor=by, action="program.created", target=program,
        changes={f: [None, _audit_value(getattr(program, f))] for f in PROGRAM_FIELDS},
    )
    return program


@transaction.atomic
def update_program(*, program: Program, by: User | None, **fields: Any) -> Program:
    """Change a program's settings; the audit entry lists each changed field as [before, after]."""
    if "currency" in fields and isinstance(fields["currency"], str):
        fields["currency"] = fields["currency"].strip().upper()
    changes = _apply_changes(program, fields, PROGRAM_FIELDS)
    if not changes:
        return program
    program.full_clean(exclude=["workspace"])
    program.save(update_fields=list(changes))
    record_audit(workspace=program.workspace, actor=by, action="program.updated", target=program, changes=changes)
    return program


# --- Groups -----------------------------------------------------------------------------


def _check_group_name(workspace: Workspace, name: str, *, excluding: PartnerGroup | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the group a name."]})
    clash = PartnerGroup.objects.for_workspace(workspace).filter(name__iexact=name)
    if excluding is not None:
        clash = clash.exclude(pk=excluding.pk)
    if clash.exists():
        raise ValidationError({"name": [f"There is already a group called “{name}”."]})
    return name


@transaction.atomic
def create_group(*, workspace: Workspace, name: str, by: User | None) -> PartnerGroup:
    group = PartnerGroup.objects.create(workspace=workspace, name=_check_group_name(workspace, name))
    record_audit(workspace=workspace, actor=by, action="partner_group.created", target=group)
    return group


def ensure_group(*, workspace: Workspace, name: str, by: User | None) -> PartnerGroup:
    """The group with this name (any case), created if missing; for seeds and imports."""
    existing = PartnerGroup.objects.for_workspace(workspace).filter(name__iexact=name.strip()).first()
    return existing or create_group(workspace=workspace, name=name, by=by)


@transaction.atomic
def rename_group(*, group: PartnerGroup, name: str, by: User | None) -> PartnerGroup:
    name = _check_group_name(group.workspace, name, excluding=group)
    if name != group.name:
        before = group.name
        group.name = name
        group.save(update_fields=["name"])
        record_audit(workspace=group.workspace, actor=by, action="partner_group.renamed", target=group,
                     changes={"name": [before, name]})
    return group


# --- Partners ---------------------------------------------------------------------------


def _find_partner(workspace: Workspace, program: Program, email: str) -> Partner | None:
    return Partner.objects.for_workspace(workspace).filter(program=program, email__iexact=email).first()


def _check_email_free(partner: Partner) -> None:
    clash = Partner.objects.for_workspace(partner.workspace).filter(program=partner.program, email__iexact=partner.email)
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
    _require_same_workspace(workspace, program=program, group=group)
    email = normalize_email(email)
    if status not in (Partner.Status.ACTIVE, Partner.Status.INVITED):
        raise ValidationError({"status": ["Use active or invited."]})
    program = program or ensure_default_program(workspace=workspace)
    existing = _find_partner(workspace, program, email)
    if existing is not None:
        return existing, False
    partner = Partner(
        workspace=workspace, program=program, group=group, name=(name or "").strip(), email=email,
        company=(company or "").strip(), country=(country or "").strip().upper(), external_id=(external_id or "").strip(),
        status=status,
    )
    partner.full_clean(exclude=["workspace", "program", "group"], validate_constraints=False)
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError:
        # Two requests with the same email raced; the other one made the partner.
        existing = _find_partner(workspace, program, email)
        if existing is None:
            raise
        return existing, False
    record_audit(workspace=workspace, actor=by, actor_label=actor_label, action="partner.created", target=partner,
                 changes={"status": [None, status], "program": [None, program.name]})
    if status == Partner.Status.INVITED:
        _open_invitation(partner, invited_by=by, notify=notify)
    return partner, True


@transaction.atomic
def update_partner(*, partner: Partner, by: User | None, **fields: Any) -> Partner:
    """A manager's edit of a partner's profile; the audit entry lists what changed."""
    _require_same_workspace(partner.workspace, program=fields.get("program"), group=fields.get("group"))
    if "email" in fields:
        fields["email"] = normalize_email(fields["email"])
    if "country" in fields:
        fields["country"] = (fields["country"] or "").strip().upper()
    changes = _apply_changes(partner, fields, PARTNER_FIELDS)
    if not changes:
        return partner
    partner.full_clean(exclude=["workspace"], validate_constraints=False)
    _check_email_free(partner)
    partner.save(update_fields=[*changes, "updated_at"])
    if "email" in changes:
        # An invitation belongs to the address it was sent to; the new address gets a new one on resend.
        _revoke_open_invitations(partner)
    record_audit(workspace=partner.workspace, actor=by, action="partner.updated", target=partner, changes=changes)
    return partner


@transaction.atomic
def update_partner_profile(*, partner: Partner, user: User, **fields: Any) -> Partner:
    """The partner's own edit in the portal: only the fields a partner may change about themselves."""
    if "country" in fields:
        fields["country"] = (fields["country"] or "").strip().upper()
    changes = _apply_changes(partner, fields, PROFILE_FIELDS)
    if not changes:
        return partner
    partner.full_clean(exclude=["workspace", "program", "group"], validate_constraints=False)
    partner.save(update_fields=[*changes, "updated_at"])
    record_audit(workspace=partner.workspace, actor=user, action="partner.profile_updated", target=partner,
                 changes=changes)
    return partner


def _set_status(partner: Partner, status: str, *, by: User | None, action: str, extra: dict[str, Any] | None = None,
                actor_label: str | None = None) -> None:
    before = partner.status
    partner.status = status
    partner.save(update_fields=["status", "rejection_reason", "updated_at"])
    record_audit(workspace=partner.workspace, actor=by, actor_label=actor_label, action=action, target=partner,
                 changes={"status": [before, status], **(extra or {})})


def _require_status(partner: Partner, allowed: tuple[str, ...], verb: str) -> None:
    # Lock the row and re-read its status: a double submit waits here, then sees the first one's
    # result, so it sends no second email and writes no second audit entry.
    partner.status = (Partner.objects.for_workspace(partner.workspace).select_for_update()
                      .values_list("status", flat=True).get(pk=partner.pk))
    if partner.status not in allowed:
        raise ValidationError(f"{partner.name} is {partner.get_status_display().lower()}; it cannot be {verb}.")


@transaction.atomic
def approve_partner(*, partner: Partner, by: User | None, notify: bool = True) -> Partner:
    """Accept an application: the partner becomes active and is emailed a link to set up their portal login."""
    _require_status(partner, (Partner.Status.PENDING,), "approved")
    partner.rejection_reason = ""
    _set_status(partner, Partner.Status.ACTIVE, by=by, action="partner.approved")
    _open_invitation(partner, invited_by=by, notify=notify, reason="approval")
    return partner


@transaction.atomic
def reject_partner(*, partner: Partner, reason: str, by: User | None, notify: bool = True) -> Partner:
    """Turn down an application; the applicant is emailed the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why, so the applicant knows; they receive this text."]})
    _require_status(partner, (Partner.Status.PENDING,), "rejected")
    partner.rejection_reason = reason
    _set_status(partner, Partner.Status.REJECTED, by=by, action="partner.rejected", extra={"reason": reason})
    _revoke_open_invitations(partner)
    if notify:
        transaction.on_commit(lambda: _send_rejection(partner))
    return partner


@transaction.atomic
def suspend_partner(*, partner: Partner, by: User | None) -> Partner:
    """Stop a partner earning: their links keep redirecting but no longer credit them (`Partner.earns`)."""
    _require_status(partner, (Partner.Status.ACTIVE, Partner.Status.INVITED), "suspended")
    _set_status(partner, Partner.Status.SUSPENDED, by=by, action="partner.suspended")
    return partner


@transaction.atomic
def reactivate_partner(*, partner: Partner, by: User | None) -> Partner:
    _require_status(partner, (Partner.Status.SUSPENDED,), "reactivated")
    _set_status(partner, Partner.Status.ACTIVE, by=by, action="partner.reactivated")
    return partner


@transaction.atomic
def change_partner_group(*, partner: Partner, group: PartnerGroup | None, by: User | None) -> Partner:
    return update_partner(partner=partner, by=by, group=group)


# --- Applications -------------------------------------------------------------------------


@transaction.atomic
def apply_to_program(
    *,
    program: Program,
    name: str,
    email: str,
    company: str = "",
    country: str = "",
    website: str = "",
    promotion_plan: str = "",
    accepted_terms: bool,
) -> tuple[Partner, bool]:
    """A public application: a `pending` partner for the managers to review.

    Applying twice with the same email changes nothing, and the applicant is told the same thing
    either way, so the page does not reveal who is already a partner.
    """
    if not program.public_applications:
        raise ValidationError("This program is not accepting applications.")
    if not accepted_terms:
        raise ValidationError({"accepted_terms": ["Accept the program terms to apply."]})
    email = normalize_email(email)
    workspace = program.workspace
    existing = _find_partner(workspace, program, email)
    if existing is not None:
        return existing, False
    partner = Partner(
        workspace=workspace, program=program, name=(name or "").strip(), email=email,
        company=(company or "").strip(), country=(country or "").strip().upper(), website=(website or "").strip(),
        promotion_plan=(promotion_plan or "").strip(), status=Partner.Status.PENDING, terms_accepted_at=timezone.now(),
    )
    partner.full_clean(exclude=["workspace", "program", "group"], validate_constraints=False)
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError:
        existing = _find_partner(workspace, program, email)
        if existing is None:
            raise
        return existing, False
    record_audit(workspace=workspace, actor=None, actor_label=f"applicant {email}", action="partner.applied",
                 target=partner, changes={"program": [None, program.name]})
    return partner, True


# --- Invitations and portal logins -------------------------------------------------------


class PartnerInvitationError(Exception):
    """The invitation link cannot be used; the message says why, for the person holding it."""


def partner_invitation_token(invitation: PartnerInvitation) -> str:
    return signing.dumps({"id": invitation.pk, "email": invitation.email}, salt=_INVITATION_SALT, compress=True)


def partner_invitation_url(invitation: PartnerInvitation) -> str:
    return settings.SITE_URL + reverse("accept_partner_invitation", args=[partner_invitation_token(invitation)])


def load_partner_invitation(token: str) -> PartnerInvitation:
    max_age = timedelta(days=invitation_max_age_days())
    try:
        data = signing.loads(token, salt=_INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise PartnerInvitationError("This invitation has expired. Ask the program manager for a new one.") from exc
    except signing.BadSignature as exc:
        raise PartnerInvitationError("This invitation link is not valid.") from exc
    invitation = (
        PartnerInvitation.objects.select_related("workspace", "partner", "partner__program")
        .filter(pk=data.get("id"), email=data.get("email"))
        .first()
    )
    if invitation is None or invitation.revoked_at:
        raise PartnerInvitationError("This invitation was withdrawn.")
    if invitation.accepted_at:
        raise PartnerInvitationError("This invitation has already been used. Sign in instead.")
    return invitation


# Each reason to send a set-up link: its email template and its subject.
_INVITATION_EMAILS: dict[str, tuple[str, Callable[[PartnerInvitation], str]]] = {
    "invitation": ("partners/email/invitation",
                   lambda inv: f"You're invited to the {inv.workspace.name} partner program"),
    "approval": ("partners/email/application_approved",
                 lambda inv: f"Your application to {inv.partner.program.name} was approved"),
}


def _open_invitation(
    partner: Partner, *, invited_by: User | None, notify: bool, reason: str = "invitation"
) -> PartnerInvitation:
    """The partner's open invitation (made if missing), emailed once the transaction commits."""
    invitation = PartnerInvitation.objects.for_workspace(partner.workspace).filter(
        partner=partner, email__iexact=partner.email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first()
    if invitation is None:
        invitation = PartnerInvitation.objects.create(
            workspace=partner.workspace, partner=partner, email=partner.email, invited_by=invited_by
        )
        record_audit(workspace=partner.workspace, actor=invited_by, action="partner.invited", target=partner,
                     changes={"email": [None, partner.email]})
    if notify:
        transaction.on_commit(lambda: _send_invitation(invitation, reason=reason))
    return invitation


def _revoke_open_invitations(partner: Partner) -> None:
    PartnerInvitation.objects.for_workspace(partner.workspace).filter(
        partner=partner, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


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
    existing = _find_partner(workspace, program, email)
    if existing is None:
        partner, _ = create_partner(
            workspace=workspace, name=name, email=email, program=program, group=group, company=company,
            status=Partner.Status.INVITED, by=invited_by, notify=notify,
        )
        return partner
    send_portal_invitation(partner=existing, by=invited_by, notify=notify)
    return existing


@transaction.atomic
def send_portal_invitation(*, partner: Partner, by: User | None, notify: bool = True) -> PartnerInvitation:
    """(Re)send a portal invitation to a partner who has no login yet."""
    if partner.status not in (Partner.Status.INVITED, Partner.Status.ACTIVE):
        raise ValidationError({"email": [f"{partner.email} is {partner.get_status_display().lower()} in "
                                         f"{partner.program.name}; review them before inviting."]})
    if PartnerUser.objects.for_workspace(partner.workspace).filter(partner=partner).exists():
        raise ValidationError({"email": [f"{partner.name} already has a portal login."]})
    return _open_invitation(partner, invited_by=by, notify=notify)


@transaction.atomic
def accept_partner_invitation(*, invitation: PartnerInvitation, user: User) -> PartnerUser:
    """Give `user` the partner's portal login; an invited partner becomes active."""
    if user.email.lower() != invitation.email.lower():
        raise PartnerInvitationError(f"This invitation is for {invitation.email}. Sign in with that address.")
    partner = invitation.partner
    partner_user = link_partner_user(partner=partner, user=user)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    if partner.status == Partner.Status.INVITED:
        _set_status(partner, Partner.Status.ACTIVE, by=user, action="partner.joined")
    else:
        record_audit(workspace=partner.workspace, actor=user, action="partner.joined", target=partner)
    return partner_user


def link_partner_user(*, partner: Partner, user: User) -> PartnerUser:
    """The portal login of `user` for `partner`, made if missing."""
    partner_user, _ = PartnerUser.objects.get_or_create(workspace=partner.workspace, partner=partner, user=user)
    return partner_user


# --- Email ------------------------------------------------------------------------------------


def _send_invitation(invitation: PartnerInvitation, *, reason: str) -> None:
    partner = invitation.partner
    template, subject = _INVITATION_EMAILS[reason]
    send_templated_email(
        to=invitation.email,
        subject=subject(invitation),
        template=template,
        context={"invitation": invitation, "partner": partner, "url": partner_invitation_url(invitation),
                 "days": invitation_max_age_days()},
    )


def _send_rejection(partner: Partner) -> None:
    send_templated_email(
        to=partner.email,
        subject=f"Your application to {partner.workspace.name}'s partner program",
        template="partners/email/application_rejected",
        context={"partner": partner},
    )
