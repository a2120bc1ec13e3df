"""What the staff and the partner invitations share: the signed, expiring link, the checks made when
it is opened (tampered, expired, withdrawn, used) and accepted (right person), one open invitation per
address that an invitation sent again reuses, withdrawing, and the email with the link.

Each kind (`STAFF_INVITATIONS` below, `partners.services.invitations.PARTNER_INVITATIONS`) says only what
differs: its rows, its accept page, how long its links last and what its expiry message tells to ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.emails import send_templated_email
from accounts.models import Invitation, StaffInvitation, User


class InvitationError(Exception):
    """The invitation link cannot be used; the message says why, for the person holding it."""


@dataclass(frozen=True)
class InvitationKind[I: Invitation]:
    """One kind of invitation. The salt keeps one kind's token from opening another's, so it never changes
    (links already sent would stop working)."""

    model: type[I]
    salt: str
    accept_url_name: str
    max_age_setting: str
    expired_message: str
    # What the accept page and the emails show, loaded with the invitation.
    select_related: tuple[str, ...] = ("workspace",)

    @property
    def max_age_days(self) -> int:
        # Read at each use, so a deployment (or a test) can change it.
        return int(getattr(settings, self.max_age_setting))

    def token(self, invitation: I) -> str:
        return signing.dumps({"id": invitation.pk, "email": invitation.email}, salt=self.salt, compress=True)

    def url(self, invitation: I) -> str:
        return settings.SITE_URL + reverse(self.accept_url_name, args=[self.token(invitation)])

    def load(self, token: str) -> I:
        """The invitation a link names, if it can still be accepted; `InvitationError` says why not."""
        try:
            data = signing.loads(token, salt=self.salt, max_age=timedelta(days=self.max_age_days))
        except signing.SignatureExpired as exc:
            raise InvitationError(self.expired_message) from exc
        except signing.BadSignature as exc:
            raise InvitationError("This invitation link is not valid.") from exc
        # Unscoped on purpose: the signed token is the proof, and it names both the row and its address.
        rows: QuerySet[I] = self.model._default_manager.across_workspaces(  # type: ignore[assignment]
            "the signed token names the row"
        )
        invitation = (
            rows.select_related(*self.select_related).filter(pk=data.get("id"), email=data.get("email")).first()
        )
        if invitation is None or invitation.revoked_at:
            raise InvitationError("This invitation was withdrawn.")
        if invitation.accepted_at:
            raise InvitationError("This invitation has already been used. Sign in instead.")
        return invitation


STAFF_INVITATIONS = InvitationKind(
    model=StaffInvitation,
    salt="accounts.staff-invitation",
    accept_url_name="accept_invitation",
    max_age_setting="STAFF_INVITATION_MAX_AGE_DAYS",
    expired_message="This invitation has expired. Ask for a new one.",
)


def open_invitations[I: Invitation](invitations: QuerySet[I]) -> QuerySet[I]:
    return invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)


def find_open_invitation[I: Invitation](invitations: QuerySet[I], *, email: str) -> I | None:
    """The invitation still waiting for this address, if any: inviting again resends its link, not a new one."""
    return open_invitations(invitations).filter(email__iexact=email).first()


def withdraw_open_invitations[I: Invitation](invitations: QuerySet[I]) -> int:
    """Withdraw those of `invitations` still open, so their links stop working; returns how many.
    One conditional UPDATE: a withdrawal racing an acceptance never undoes it."""
    return open_invitations(invitations).update(revoked_at=timezone.now())


def use_invitation(invitation: Invitation, *, user: User) -> None:
    """Mark the invitation accepted by `user`, who must be the person it was sent to."""
    if user.email.lower() != invitation.email.lower():
        raise InvitationError(f"This invitation is for {invitation.email}. Sign in with that address.")
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])


def send_invitation_email[I: Invitation](
    kind: InvitationKind[I],
    invitation: I,
    *,
    subject: str,
    template: str,
    context: dict[str, Any] | None = None,
    from_business: bool = False,
) -> None:
    """Email the invitation's accept link; the template also gets the invitation and how many days the link
    lasts. `from_business`: sent in the workspace's name (a partner's invitation), not Tandem's."""
    send_templated_email(
        to=invitation.email,
        subject=subject,
        template=template,
        context={"invitation": invitation, "url": kind.url(invitation), "days": kind.max_age_days, **(context or {})},
        from_business=invitation.workspace if from_business else None,
    )
