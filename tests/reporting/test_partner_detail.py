from __future__ import annotations

from partners.models import Partner
from tests.partners.factories import PartnerFactory, PartnerUserFactory, ProgramFactory


def _url(workspace, partner) -> str:
    return f"/w/{workspace.slug}/partners/{partner.pk}/"


def test_a_manager_sees_the_partners_profile_and_actions(manager_client, workspace):
    partner = PartnerFactory(workspace=workspace, name="Brightside", company="Brightside Media", country="DE")

    response = manager_client.get(_url(workspace, partner))

    assert response.status_code == 200
    assert b"Brightside Media" in response.content and b"Germany" in response.content
    assert b"Suspend" in response.content and b"Edit" in response.content


def test_a_viewer_sees_the_partner_without_actions(viewer_client, workspace):
    partner = PartnerFactory(workspace=workspace)

    response = viewer_client.get(_url(workspace, partner))

    assert response.status_code == 200
    assert b"Suspend" not in response.content


def test_a_pending_application_shows_approve_and_reject(manager_client, workspace):
    partner = PartnerFactory(workspace=workspace, status=Partner.Status.PENDING, promotion_plan="A newsletter.")

    response = manager_client.get(_url(workspace, partner))

    assert b"A newsletter." in response.content
    assert b"Approve" in response.content and b"Reject" in response.content


def test_a_partner_with_a_portal_login_shows_who_signs_in(manager_client, workspace):
    login = PartnerUserFactory(partner__workspace=workspace)

    response = manager_client.get(_url(workspace, login.partner))

    assert login.user.email.encode() in response.content


def test_a_partner_without_a_login_can_be_sent_an_invitation(manager_client, workspace):
    partner = PartnerFactory(workspace=workspace)

    assert b"Send portal invitation" in manager_client.get(_url(workspace, partner)).content


def test_the_detail_page_shows_the_partners_history(manager_client, workspace):
    partner = PartnerFactory(workspace=workspace)
    manager_client.post(f"/w/{workspace.slug}/partners/{partner.pk}/suspend/")

    response = manager_client.get(_url(workspace, partner))

    assert 'Suspended <span class="small muted">by' in response.content.decode()
    assert b"partner.suspended" not in response.content
    assert "Active → Suspended" in response.content.decode()


def test_an_outsider_gets_404_on_the_partner_detail(outsider_client, workspace):
    partner = PartnerFactory(workspace=workspace, program=ProgramFactory(workspace=workspace))

    assert outsider_client.get(_url(workspace, partner)).status_code == 404


def test_another_workspaces_partner_is_404_in_this_workspace(manager_client, workspace, other_workspace):
    foreign = PartnerFactory(workspace=other_workspace)

    assert manager_client.get(_url(workspace, foreign)).status_code == 404
