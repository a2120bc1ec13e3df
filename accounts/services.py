"""Writes of the accounts app: workspaces, staff, domains, API keys and the audit log."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from accounts.domains import find_verification_record, normalize_domain
from accounts.emails import send_templated_email as send_templated_email  # re-exported: every app sends email
from accounts.invitations import (
    STAFF_INVITATIONS,
    find_open_invitation,
    send_invitation_email,
    use_invitation,
    withdraw_open_invitations,
)
from accounts.models import ApiKey, AuditLogEntry, Domain, Membership, Role, StaffInvitation, User, Workspace

API_KEY_PREFIX = "tdm_"
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
RESERVED_SLUGS = {"admin", "api", "static", "media", "login", "logout", "portal", "w", "r", "webhooks", "healthz"}


def record_audit(
    *,
    workspace: Workspace,
    actor: User | None,
    action: str,
    target: Any = None,
    changes: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditLogEntry:
    return AuditLogEntry.objects.create(
        workspace=workspace,
        actor=actor,
        actor_label=actor_label or (actor.email if actor else "system"),
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or ""),
        target_repr=str(target)[:200] if target is not None else "",
        changes=changes or {},
    )


def validate_workspace_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not _SLUG_RE.match(slug):
        raise ValidationError(
            "Use 1–60 lower-case letters, digits and dashes, starting and ending with a letter or digit."
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"“{slug}” is reserved; choose another.")
    return slug


@dataclass
class WorkspaceCreated:
    workspace: Workspace
    owner: User
    created: bool
    api_key: str | None = None


@transaction.atomic
def create_workspace(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None = None,
    domains: list[str] | tuple[str, ...] = (),
    with_api_key: bool = False,
) -> WorkspaceCreated:
    """Create a workspace with its owner. Safe to repeat: an existing workspace gains what is missing."""
    slug = validate_workspace_slug(slug or slugify(name))
    workspace, created = Workspace.objects.get_or_create(slug=slug, defaults={"name": name})
    owner = User.objects.filter(email__iexact=owner_email).first()
    if owner is None:
        owner = User.objects.create_user(email=owner_email, password=owner_password)
        if not owner_password:
            owner.set_unusable_password()
            owner.save(update_fields=["password"])
    Membership.objects.get_or_create(workspace=workspace, user=owner, defaults={"role": Role.OWNER})
    if created:
        record_audit(
            workspace=workspace, actor=None, actor_label="operator", action="workspace.created", target=workspace
        )
    for raw in domains:
        # The operator vouches for these: no DNS proof asked.
        add_domain(workspace=workspace, domain=raw, actor=None, actor_label="operator", verified=True)
    key = None
    if with_api_key:
        _, key = create_api_key(workspace=workspace, name="Created by create_workspace", created_by=None)
    return WorkspaceCreated(workspace=workspace, owner=owner, created=created, api_key=key)


def add_domain(
    *, workspace: Workspace, domain: str, actor: User | None, actor_label: str | None = None, verified: bool = False
) -> Domain:
    """Add a destination domain, pending until its DNS proves it (`check_domain`). `verified=True` is for
    trusted paths only (an operator's `create_workspace --domain`, the demo). Adding it again returns it."""
    name = normalize_domain(domain)
    existing = Domain.objects.for_workspace(workspace).filter(domain__iexact=name).first()
    if existing:
        if verified and not existing.is_verified:
            _mark_verified(existing, actor=actor, actor_label=actor_label, detail="Verified by an operator.")
        return existing
    now = timezone.now()
    row = Domain.objects.create(
        workspace=workspace,
        domain=name,
        status=Domain.Status.VERIFIED if verified else Domain.Status.PENDING,
        verified_at=now if verified else None,
    )
    record_audit(
        workspace=workspace,
        actor=actor,
        actor_label=actor_label,
        action="domain.added",
        target=row,
        changes={"status": row.status},
    )
    return row


def _mark_verified(domain: Domain, *, actor: User | None, actor_label: str | None, detail: str) -> bool:
    now = timezone.now()
    # Conditional, so a "Check now" racing the periodic recheck records the proof once.
    won = Domain.objects.filter(workspace_id=domain.workspace_id, pk=domain.pk, status=Domain.Status.PENDING).update(
        status=Domain.Status.VERIFIED, verified_at=now, last_checked_at=now, last_check_message=detail
    )
    domain.status, domain.verified_at, domain.last_checked_at, domain.last_check_message = (
        Domain.Status.VERIFIED,
        now,
        now,
        detail,
    )
    if won:
        record_audit(
            workspace=domain.workspace, actor=actor, actor_label=actor_label, action="domain.verified", target=domain
        )
    return bool(won)


def check_domain(*, domain: Domain, actor: User | None = None, actor_label: str | None = None) -> Domain:
    """Look for the domain's `tandem-verify=<token>` TXT record now; verify it when found.

    A verified domain stays verified (nothing to look up); a lookup that finds nothing only records
    what it saw, for the domains page."""
    if domain.is_verified:
        return domain
    result = find_verification_record(domain.domain, domain.verification_token)
    if result.found:
        _mark_verified(domain, actor=actor, actor_label=actor_label, detail=result.detail)
    else:
        domain.last_checked_at, domain.last_check_message = timezone.now(), result.detail[:300]
        domain.save(update_fields=["last_checked_at", "last_check_message"])
    return domain


# A domain nobody proves within this long stops being looked up by the periodic check ("Check now" still works).
PENDING_RECHECK_DAYS = 14
PENDING_RECHECK_INTERVAL = timedelta(minutes=4)
PENDING_RECHECK_BATCH = 50


def recheck_pending_domains(*, limit: int = PENDING_RECHECK_BATCH) -> int:
    """Look up the pending domains checked least recently; returns how many became verified."""
    now = timezone.now()
    due = (
        Domain.objects.across_workspaces("beat: DNS recheck of every workspace")
        .select_related("workspace")
        .filter(status=Domain.Status.PENDING, created_at__gte=now - timedelta(days=PENDING_RECHECK_DAYS))
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=now - PENDING_RECHECK_INTERVAL))
        .order_by(F("last_checked_at").asc(nulls_first=True), "pk")[:limit]
    )
    return sum(check_domain(domain=row, actor_label="automatic DNS check").is_verified for row in due)


def remove_domain(*, domain: Domain, actor: User | None) -> None:
    record_audit(workspace=domain.workspace, actor=actor, action="domain.removed", target=domain)
    domain.delete()


# --- Staff ------------------------------------------------------------------------


def invitation_token(invitation: StaffInvitation) -> str:
    return STAFF_INVITATIONS.token(invitation)


def load_invitation(token: str) -> StaffInvitation:
    """The staff invitation a link names, if it can still be accepted; `InvitationError` says why not."""
    return STAFF_INVITATIONS.load(token)


@transaction.atomic
def invite_staff(*, workspace: Workspace, email: str, role: str, invited_by: User) -> StaffInvitation:
    """Invite someone to the staff and email the link. Inviting the same address again resends it."""
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, manager, finance or viewer."})
    if Membership.objects.for_workspace(workspace).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {workspace.name}."})
    invitation = find_open_invitation(StaffInvitation.objects.for_workspace(workspace), email=email)
    if invitation is None:
        invitation = StaffInvitation.objects.create(workspace=workspace, email=email, role=role, invited_by=invited_by)
        record_audit(
            workspace=workspace, actor=invited_by, action="staff.invited", target=invitation, changes={"role": role}
        )
    elif invitation.role != role:
        invitation.role = role
        invitation.save(update_fields=["role"])
    transaction.on_commit(lambda: send_staff_invitation(invitation))
    return invitation


def send_staff_invitation(invitation: StaffInvitation) -> None:
    send_invitation_email(
        STAFF_INVITATIONS,
        invitation,
        subject=f"You're invited to {invitation.workspace.name} on Tandem",
        template="accounts/email/staff_invitation",
    )


@transaction.atomic
def accept_staff_invitation(*, invitation: StaffInvitation, user: User) -> Membership:
    use_invitation(invitation, user=user)
    membership, _ = Membership.objects.get_or_create(
        workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
    )
    record_audit(workspace=invitation.workspace, actor=user, action="staff.joined", target=membership)
    return membership


def revoke_staff_invitation(*, invitation: StaffInvitation, by: User) -> None:
    if withdraw_open_invitations(StaffInvitation.objects.for_workspace(invitation.workspace).filter(pk=invitation.pk)):
        invitation.refresh_from_db(fields=["revoked_at"])
        record_audit(workspace=invitation.workspace, actor=by, action="staff.invitation_revoked", target=invitation)


def _owners_left(workspace: Workspace, *, excluding: Membership) -> bool:
    return Membership.objects.for_workspace(workspace).filter(role=Role.OWNER).exclude(pk=excluding.pk).exists()


def change_member_role(*, membership: Membership, role: str, by: User) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, manager, finance or viewer."})
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and not _owners_left(membership.workspace, excluding=membership)
    ):
        raise ValidationError("A workspace needs at least one owner.")
    if membership.role != role:
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        record_audit(
            workspace=membership.workspace,
            actor=by,
            action="staff.role_changed",
            target=membership,
            changes={"role": [before, role]},
        )
    return membership


def remove_member(*, membership: Membership, by: User) -> None:
    if membership.role == Role.OWNER and not _owners_left(membership.workspace, excluding=membership):
        raise ValidationError("A workspace needs at least one owner.")
    record_audit(workspace=membership.workspace, actor=by, action="staff.removed", target=membership)
    membership.delete()


# --- API keys -------------------------------------------------------------------------


def hash_api_key(raw: str) -> str:
    # Keys are 256-bit random, so a plain SHA-256 is enough (no stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_key(*, workspace: Workspace, name: str, created_by: User | None) -> tuple[ApiKey, str]:
    """Make a key; the raw key is returned once and never stored."""
    name = name.strip() or "API key"
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        workspace=workspace, name=name[:80], prefix=raw[:12], key_hash=hash_api_key(raw), created_by=created_by
    )
    record_audit(
        workspace=workspace,
        actor=created_by,
        actor_label=None if created_by else "operator",
        action="api_key.created",
        target=api_key,
    )
    return api_key, raw


def revoke_api_key(*, api_key: ApiKey, by: User | None) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        record_audit(workspace=api_key.workspace, actor=by, action="api_key.revoked", target=api_key)


def authenticate_api_key(raw: str) -> ApiKey | None:
    """The active key for a raw bearer token, with its workspace; records when it was last used."""
    if not raw.startswith(API_KEY_PREFIX):
        return None
    api_key = (
        ApiKey.objects.across_workspaces("the key itself names its workspace")
        .select_related("workspace")
        .filter(key_hash=hash_api_key(raw), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    # One write a minute at most: last-used is for humans, not an access log.
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.for_workspace(api_key.workspace).filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
