"""Partner portal invitations and logins. The link, its checks and its email are the shared invitation
implementation (accounts/invitations.py); what is partner-specific lives here: an invitation belongs to
a partner, approval sends one too, and accepting it gives a portal login and activates an invited partner."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.invitations import (
    InvitationKind,
    find_open_invitation,
    send_invitation_email,
    use_invitation,
    withdraw_open_invitations,
)
from accounts.models import User
from accounts.services import record_audit
from partners.models import Partner, PartnerInvitation, PartnerUser
from partners.reward_text import reward_sentence
from partners.services.arrivals import partner_joined
from partners.services.common import set_status

PARTNER_INVITATIONS = InvitationKind(
    model=PartnerInvitation,
    salt="partners.partner-invitation",
    accept_url_name="accept_partner_invitation",
    max_age_setting="PARTNER_INVITATION_MAX_AGE_DAYS",
    expired_message="This invitation has expired. Ask the program manager for a new one.",
    select_related=("workspace", "partner", "partner__program"),
)

# Each reason to send a set-up link: its email template and its subject.
_INVITATION_EMAILS: dict[str, tuple[str, Callable[[PartnerInvitation], str]]] = {
    "invitation": (
        "partners/email/invitation",
        lambda inv: f"You're invited to the {inv.workspace.name} partner program",
    ),
    "approval": (
        "partners/email/application_approved",
        lambda inv: f"Your application to {inv.partner.program.name} was approved",
    ),
}


def partner_invitation_token(invitation: PartnerInvitation) -> str:
    return PARTNER_INVITATIONS.token(invitation)


def partner_invitation_url(invitation: PartnerInvitation) -> str:
    return PARTNER_INVITATIONS.url(invitation)


def load_partner_invitation(token: str) -> PartnerInvitation:
    """The partner invitation a link names, if it can still be accepted; `InvitationError` says why not."""
    return PARTNER_INVITATIONS.load(token)


def open_invitation(
    partner: Partner, *, invited_by: User | None, notify: bool, reason: str = "invitation"
) -> PartnerInvitation:
    """The partner's open invitation (made if missing), emailed once the transaction commits."""
    invitation = find_open_invitation(
        PartnerInvitation.objects.for_workspace(partner.workspace).filter(partner=partner), email=partner.email
    )
    if invitation is None:
        invitation = PartnerInvitation.objects.create(
            workspace=partner.workspace, partner=partner, email=partner.email, invited_by=invited_by
        )
        record_audit(
            workspace=partner.workspace,
            actor=invited_by,
            action="partner.invited",
            target=partner,
            changes={"email": [None, partner.email]},
        )
    if notify:
        transaction.on_commit(lambda: _send_invitation(invitation, reason=reason))
    return invitation


def withdraw_partner_invitations(partner: Partner) -> None:
    """Withdraw the partner's open invitations: their links stop working."""
    withdraw_open_invitations(PartnerInvitation.objects.for_workspace(partner.workspace).filter(partner=partner))


@transaction.atomic
def send_portal_invitation(*, partner: Partner, by: User | None, notify: bool = True) -> PartnerInvitation:
    """(Re)send a portal invitation to a partner who has no login yet."""
    if partner.status not in (Partner.Status.INVITED, Partner.Status.ACTIVE):
        raise ValidationError(
            {
                "email": [
                    f"{partner.email} is {partner.get_status_display().lower()} in "
                    f"{partner.program.name}; review them before inviting."
                ]
            }
        )
    if PartnerUser.objects.for_workspace(partner.workspace).filter(partner=partner).exists():
        raise ValidationError({"email": [f"{partner.name} already has a portal login."]})
    return open_invitation(partner, invited_by=by, notify=notify)


@transaction.atomic
def accept_partner_invitation(*, invitation: PartnerInvitation, user: User) -> PartnerUser:
    """Give `user` the partner's portal login; an invited partner becomes active."""
    use_invitation(invitation, user=user)
    partner = invitation.partner
    partner_user = link_partner_user(partner=partner, user=user)
    if partner.status == Partner.Status.INVITED:
        set_status(partner, Partner.Status.ACTIVE, by=user, action="partner.joined")
    else:
        record_audit(workspace=partner.workspace, actor=user, action="partner.joined", target=partner)
    partner_joined(partner)  # safe again: a partner added before default links existed gets one now
    return partner_user


def link_partner_user(*, partner: Partner, user: User) -> PartnerUser:
    """The portal login of `user` for `partner`, made if missing."""
    partner_user, _ = PartnerUser.objects.get_or_create(workspace=partner.workspace, partner=partner, user=user)
    return partner_user


def _send_invitation(invitation: PartnerInvitation, *, reason: str) -> None:
    template, subject = _INVITATION_EMAILS[reason]
    send_invitation_email(
        PARTNER_INVITATIONS,
        invitation,
        subject=subject(invitation),
        template=template,
        context={
            "partner": invitation.partner,
            "reward": reward_sentence(invitation.partner.program, invitation.partner.group),
        },
        from_business=True,
    )
