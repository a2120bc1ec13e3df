from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core import mail, signing

from accounts.models import Membership, Role, StaffInvitation
from accounts.services import invitation_token
from tests.accounts.factories import PASSWORD, StaffInvitationFactory, UserFactory
from tests.accounts.helpers import can_sign_in, link_in_last_email, sign_in

NEW_PASSWORD = "welcome-aboard-2024"


@pytest.fixture
def invite(django_capture_on_commit_callbacks, workspace):
    """Post the invitation form as `client`; the email goes out when the transaction commits."""

    def invite(client, email="new.person@example.test", role=Role.FINANCE):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/w/{workspace.slug}/settings/members/", {"email": email, "role": role})

    return invite


def accept_as_new_person(client, link, password=NEW_PASSWORD):
    return client.post(
        link, {"first_name": "Nina", "last_name": "New", "new_password1": password, "new_password2": password}
    )


def test_manager_invites_someone_by_email(manager_client, invite, workspace):
    response = invite(manager_client, "New.Person@Example.test")

    assert response["Location"] == f"/w/{workspace.slug}/settings/members/"
    page = manager_client.get(response["Location"])
    assert b"Invitation sent to New.Person@Example.test" in page.content
    assert [i.email for i in page.context["invitations"]] == ["new.person@example.test"]  # the pending list


def test_the_invitation_email_carries_a_signed_link(manager_client, invite, workspace):
    invite(manager_client, role=Role.FINANCE)

    (message,) = mail.outbox
    assert message.to == ["new.person@example.test"]
    assert workspace.name in message.subject
    assert "as finance" in message.body
    link = link_in_last_email("/invitations/")
    assert message.body.count(settings.SITE_URL + link) == 1
    token = link.removeprefix("/invitations/").rstrip("/")
    assert signing.loads(token, salt="accounts.staff-invitation")["email"] == "new.person@example.test"


@pytest.mark.parametrize("persona", ["finance_client", "viewer_client"])
def test_only_owners_and_managers_invite(persona, request, invite):
    response = invite(request.getfixturevalue(persona))

    assert response.status_code == 403
    assert not StaffInvitation.objects.exists()
    assert mail.outbox == []


def test_a_new_person_accepts_sets_a_password_and_lands_on_the_dashboard(manager_client, client, invite, workspace):
    invite(manager_client, role=Role.FINANCE)
    link = link_in_last_email("/invitations/")

    page = client.get(link)
    assert f"Join {workspace.name}".encode() in page.content
    response = accept_as_new_person(client, link)

    assert response["Location"] == f"/w/{workspace.slug}/"
    assert client.get(response["Location"]).status_code == 200  # signed in
    membership = Membership.objects.get(workspace=workspace, user__email="new.person@example.test")
    assert membership.role == Role.FINANCE
    assert membership.user.get_full_name() == "Nina New"
    assert can_sign_in("new.person@example.test", NEW_PASSWORD)


def test_accepting_needs_a_strong_password(manager_client, client, invite):
    invite(manager_client)

    response = accept_as_new_person(client, link_in_last_email("/invitations/"), password="short")

    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    assert not Membership.objects.filter(user__email="new.person@example.test").exists()


def test_an_expired_invitation_link_is_refused(client, workspace, monkeypatch):
    invitation = StaffInvitationFactory(workspace=workspace)
    days_ago = timedelta(days=settings.STAFF_INVITATION_MAX_AGE_DAYS + 1).total_seconds()
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - days_ago)
    token = invitation_token(invitation)  # signed as if sent that many days ago
    monkeypatch.undo()

    response = client.get(f"/invitations/{token}/")

    assert response.status_code == 410
    assert b"This invitation has expired" in response.content


def test_a_link_still_works_on_its_last_day(client, workspace, monkeypatch):
    invitation = StaffInvitationFactory(workspace=workspace)
    almost = timedelta(days=settings.STAFF_INVITATION_MAX_AGE_DAYS, hours=-1).total_seconds()
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - almost)
    token = invitation_token(invitation)
    monkeypatch.undo()

    assert client.get(f"/invitations/{token}/").status_code == 200


def test_a_tampered_link_is_refused(client, workspace):
    token = invitation_token(StaffInvitationFactory(workspace=workspace))

    response = client.get(f"/invitations/{token[:-2]}xx/")

    assert response.status_code == 410
    assert b"This invitation link is not valid" in response.content


def test_a_withdrawn_invitation_link_is_refused(manager_client, client, invite, workspace):
    invite(manager_client)
    link = link_in_last_email("/invitations/")
    invitation = StaffInvitation.objects.get()

    manager_client.post(f"/w/{workspace.slug}/settings/invitations/{invitation.pk}/revoke/")
    response = client.get(link)

    assert response.status_code == 410
    assert b"This invitation was withdrawn" in response.content
    assert not manager_client.get(f"/w/{workspace.slug}/settings/members/").context["invitations"]


def test_a_used_invitation_link_is_refused(manager_client, client, invite):
    invite(manager_client)
    link = link_in_last_email("/invitations/")
    accept_as_new_person(client, link)

    response = client.get(link)

    assert response.status_code == 410
    assert b"already been used" in response.content


def test_inviting_the_same_address_twice_resends_one_invitation(manager_client, invite, workspace):
    invite(manager_client, role=Role.VIEWER)
    invite(manager_client, role=Role.FINANCE)

    assert len(mail.outbox) == 2
    invitation = StaffInvitation.objects.get(workspace=workspace)
    assert invitation.role == Role.FINANCE
    assert "as finance" in mail.outbox[1].body


def test_inviting_an_existing_member_shows_an_error_next_to_the_email(manager_client, invite, viewer):
    response = invite(manager_client, viewer.email)

    assert response.status_code == 200
    assert "is already a member" in response.context["form"].errors["email"][0]
    assert b"is already a member" in response.content
    assert not StaffInvitation.objects.exists()
    assert mail.outbox == []


def test_someone_with_a_login_signs_in_then_joins(manager_client, client, invite, outsider, workspace):
    invite(manager_client, outsider.email, Role.VIEWER)
    link = link_in_last_email("/invitations/")

    assert unquote(client.get(link)["Location"]) == f"/login/?next={link}"
    sign_in(client, outsider.email)
    response = client.post(link)

    assert response["Location"] == f"/w/{workspace.slug}/"
    assert Membership.objects.get(workspace=workspace, user=outsider).role == Role.VIEWER
    assert outsider.memberships.count() == 2


def test_an_invitation_cannot_be_taken_by_someone_else_signed_in(manager_client, client, invite, outsider, workspace):
    invitee = UserFactory(email="invitee@example.test")
    invite(manager_client, invitee.email)
    link = link_in_last_email("/invitations/")
    sign_in(client, outsider.email)

    response = client.post(link, follow=True)

    assert b"This invitation is for invitee@example.test" in response.content
    assert not Membership.objects.filter(workspace=workspace, user__in=[invitee, outsider]).exists()
    assert can_sign_in(invitee.email, PASSWORD)  # nothing changed for the invitee either


def test_outsider_gets_404_on_the_team_page(outsider_client, invite, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/settings/members/").status_code == 404
    assert invite(outsider_client).status_code == 404
    assert not StaffInvitation.objects.exists()


def test_outsider_cannot_withdraw_another_workspaces_invitation(outsider_client, other_workspace, workspace):
    invitation = StaffInvitationFactory(workspace=workspace)

    response = outsider_client.post(f"/w/{other_workspace.slug}/settings/invitations/{invitation.pk}/revoke/")

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_open
