from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.exceptions import ValidationError

from partners import services
from partners.models import Partner, PartnerInvitation, PartnerUser
from tests.accounts.factories import PASSWORD, UserFactory
from tests.attribution.factories import RewardRuleFactory
from tests.conftest import client_for

NEW_PASSWORD = "a-long-partner-passphrase"


def _link(message) -> str:
    return re.search(r"http://[^\s]+/partner-invitations/[^\s/]+/", message.body)[0].split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def invited(workspace, manager, program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.invite_partner(
            workspace=workspace,
            email="Paula@Brightside.test",
            name="Paula Partner",
            invited_by=manager,
            company="Brightside Media",
        )


def test_a_manager_invites_a_partner_from_the_invite_page(
    manager_client, workspace, program, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            f"/w/{workspace.slug}/partners/invite/",
            {
                "name": "Paula Partner",
                "email": "paula@brightside.test",
                "program": program.pk,
            },
        )

    partner = Partner.objects.for_workspace(workspace).get(email="paula@brightside.test")
    assert response.status_code == 302
    assert partner.status == Partner.Status.INVITED
    assert mail.outbox[0].to == ["paula@brightside.test"]


def test_the_invitation_email_links_to_a_signed_acceptance_page(invited):
    assert "/partner-invitations/" in mail.outbox[0].body
    assert "14 days" in mail.outbox[0].body


def test_accepting_sets_a_password_and_lands_on_the_portal_home(client, invited, workspace):
    response = client.post(
        "/" + _link(mail.outbox[0]),
        {
            "first_name": "Paula",
            "last_name": "Partner",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0].startswith(f"/portal/{workspace.slug}/")
    assert b"Paula Partner" in response.content


def test_accepting_makes_the_partner_active_with_a_portal_login(client, invited):
    client.post("/" + _link(mail.outbox[0]), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    invited.refresh_from_db()
    assert invited.status == Partner.Status.ACTIVE
    assert PartnerUser.objects.get(partner=invited).user.check_password(NEW_PASSWORD)


def test_a_used_invitation_cannot_be_used_again(client, invited):
    link = "/" + _link(mail.outbox[0])
    client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()

    response = client.get(link)

    assert response.status_code == 410
    assert b"already been used" in response.content


def test_an_expired_invitation_is_refused(client, invited, monkeypatch):
    invitation = PartnerInvitation.objects.get(partner=invited)
    fifteen_days_ago = int(time.time()) - 15 * 86400
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(fifteen_days_ago))
    token = services.partner_invitation_token(invitation)
    monkeypatch.undo()

    response = client.get(f"/partner-invitations/{token}/")

    assert response.status_code == 410
    assert b"expired" in response.content


def test_a_tampered_token_is_refused(client, invited):
    assert client.get("/partner-invitations/not-a-token/").status_code == 410


def test_someone_with_an_account_signs_in_before_accepting(
    client, workspace, manager, program, django_capture_on_commit_callbacks
):
    UserFactory(email="jo@harbor.test")
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_partner(workspace=workspace, email="jo@harbor.test", name="Harbor", invited_by=manager)

    response = client.get("/" + _link(mail.outbox[0]))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_signed_in_person_with_an_account_joins_with_one_click(
    workspace, manager, program, django_capture_on_commit_callbacks
):
    user = UserFactory(email="jo@harbor.test")
    with django_capture_on_commit_callbacks(execute=True):
        partner = services.invite_partner(
            workspace=workspace, email="jo@harbor.test", name="Harbor", invited_by=manager
        )

    response = client_for(user).post("/" + _link(mail.outbox[0]))

    assert response.status_code == 302
    assert PartnerUser.objects.filter(partner=partner, user=user).exists()
    assert user.check_password(PASSWORD)


def test_inviting_the_same_address_again_resends_without_a_second_partner(
    workspace, manager, invited, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        again = services.invite_partner(
            workspace=workspace, email="paula@brightside.test", name="P", invited_by=manager
        )

    assert again == invited
    assert len(mail.outbox) == 2
    assert PartnerInvitation.objects.filter(partner=invited).count() == 1


def test_a_partner_with_a_portal_login_cannot_be_invited_again(workspace, manager, invited, client):
    client.post("/" + _link(mail.outbox[0]), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    with pytest.raises(ValidationError, match="already has a portal login"):
        services.invite_partner(workspace=workspace, email="paula@brightside.test", name="P", invited_by=manager)


def test_a_viewer_cannot_invite_partners(viewer_client, workspace, program):
    response = viewer_client.post(f"/w/{workspace.slug}/partners/invite/", {"name": "X", "email": "x@x.test"})

    assert response.status_code == 403
    assert not get_user_model().objects.filter(email="x@x.test").exists()


def test_an_outsider_gets_404_on_the_invite_page(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/invite/").status_code == 404


def test_changing_an_invited_partners_email_withdraws_the_old_link(client, workspace, manager, invited):
    services.update_partner(partner=invited, by=manager, email="paula@new.test")

    response = client.get("/" + _link(mail.outbox[0]))

    assert response.status_code == 410
    assert b"withdrawn" in response.content


def test_the_invite_page_offers_the_default_program_even_in_a_workspace_made_without_one(manager_client, workspace):
    response = manager_client.get(f"/w/{workspace.slug}/partners/invite/")
    assert response.status_code == 200
    assert list(response.context["form"].fields["program"].queryset.values_list("name", flat=True)) == ["Default"]


def test_the_acceptance_page_says_what_the_partner_earns(client, invited, workspace, program):
    RewardRuleFactory(workspace=workspace, program=program, sale_value=15)
    page = client.get("/" + _link(mail.outbox[0])).content.decode()
    assert "What you earn:</strong> 15% of every payment" in page
