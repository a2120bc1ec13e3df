"""Staff and partner invitations share one implementation (accounts/invitations.py); each kind's links
open only that kind's invitations."""

from __future__ import annotations

import pytest

from accounts.invitations import STAFF_INVITATIONS, InvitationError, withdraw_open_invitations
from partners import services
from partners.models import PartnerInvitation
from tests.accounts.factories import StaffInvitationFactory


@pytest.fixture
def partner_invitation(workspace, manager, program):
    partner = services.invite_partner(
        workspace=workspace, email="paula@brightside.test", name="Paula", invited_by=manager, notify=False
    )
    return PartnerInvitation.objects.get(partner=partner)


def test_a_staff_link_does_not_open_a_partner_invitation_with_the_same_id(workspace, partner_invitation):
    staff = StaffInvitationFactory(workspace=workspace, email=partner_invitation.email)
    staff_token = STAFF_INVITATIONS.token(staff)
    with pytest.raises(InvitationError, match="not valid"):
        services.PARTNER_INVITATIONS.load(staff_token)


def test_a_partner_link_does_not_open_a_staff_invitation(workspace, partner_invitation):
    StaffInvitationFactory(workspace=workspace, email=partner_invitation.email)
    with pytest.raises(InvitationError, match="not valid"):
        STAFF_INVITATIONS.load(services.partner_invitation_token(partner_invitation))


def test_a_withdrawn_partner_invitation_says_so(partner_invitation):
    token = services.partner_invitation_token(partner_invitation)
    assert withdraw_open_invitations(PartnerInvitation.objects.filter(pk=partner_invitation.pk)) == 1
    with pytest.raises(InvitationError, match="withdrawn"):
        services.load_partner_invitation(token)


def test_withdrawing_twice_changes_nothing_the_second_time(partner_invitation):
    invitations = PartnerInvitation.objects.filter(pk=partner_invitation.pk)
    assert withdraw_open_invitations(invitations) == 1
    assert withdraw_open_invitations(invitations) == 0
