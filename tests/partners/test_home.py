from __future__ import annotations

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.conftest import client_for
from tests.partners.factories import PartnerUserFactory


def test_staff_of_one_workspace_land_on_its_dashboard(owner_client, workspace):
    response = owner_client.get("/")

    assert response["Location"] == f"/w/{workspace.slug}/"


def test_a_person_who_is_only_a_partner_lands_on_their_portal(partner_client, partner_user, workspace):
    login = partner_user.partner_logins.get()

    response = partner_client.get("/")

    assert response["Location"] == f"/portal/{workspace.slug}/?partner={login.partner_id}"


def test_a_person_who_is_staff_and_partner_chooses_between_them(workspace, other_workspace):
    user = UserFactory()
    MembershipFactory(workspace=workspace, user=user, role=Role.MANAGER)
    PartnerUserFactory(partner__workspace=other_workspace, partner__name="Globex Reseller", user=user)

    response = client_for(user).get("/")

    assert response.status_code == 200
    assert b"Partner portals" in response.content and b"Globex Reseller" in response.content
    assert f"/w/{workspace.slug}/".encode() in response.content


def test_a_person_with_nothing_yet_is_told_what_to_do(db):
    response = client_for(UserFactory()).get("/")

    assert b"No workspace yet" in response.content


def test_signed_out_people_are_sent_to_sign_in(client, db):
    assert client.get("/")["Location"].startswith("/login/")


def test_signing_in_as_a_partner_ends_on_the_portal(client, db):
    login = PartnerUserFactory(partner__workspace=WorkspaceFactory(slug="initech"), user=UserFactory(email="p@x.test"))

    response = client.post("/login/", {"username": "p@x.test", "password": "correct-horse-battery"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/portal/initech/?partner={login.partner_id}"
