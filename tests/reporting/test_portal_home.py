from __future__ import annotations

from partners.models import PartnerUser
from referrals.models import Link
from tests.accounts.factories import DomainFactory, UserFactory
from tests.conftest import client_for
from tests.partners.factories import PartnerFactory, PartnerUserFactory
from tests.referrals.factories import ReferralCodeFactory, ReferralFactory


def test_the_portal_home_shows_the_partner_and_the_program_terms(partner_client, partner_user, workspace):
    login = PartnerUser.objects.get(user=partner_user)
    program = login.partner.program
    program.terms = "Earn 20% for a year."
    program.save(update_fields=["terms"])

    response = partner_client.get(f"/portal/{workspace.slug}/")

    assert response.status_code == 200
    assert login.partner.name.encode() in response.content
    assert b"Earn 20% for a year." in response.content


def test_the_portal_home_shows_zero_figures_with_an_empty_state(partner_client, workspace):
    response = partner_client.get(f"/portal/{workspace.slug}/")

    assert response.context["figures"] == {"clicks": 0, "unique_clicks": 0, "leads": 0, "deals": 0}
    assert b"Nothing yet" in response.content


def test_the_portal_shows_only_the_signed_in_partner(partner_client, workspace, partner_user):
    PartnerFactory(workspace=workspace, name="Someone Else Entirely")

    response = partner_client.get(f"/portal/{workspace.slug}/")

    assert b"Someone Else Entirely" not in response.content


def test_a_suspended_partner_is_told_their_links_earn_nothing(partner_client, workspace, partner_user):
    partner = PartnerUser.objects.get(user=partner_user).partner
    partner.status = "suspended"
    partner.save(update_fields=["status"])

    assert b"suspended" in partner_client.get(f"/portal/{workspace.slug}/").content


def test_signed_out_visitors_are_sent_to_sign_in(client, workspace, partner_user):
    response = client.get(f"/portal/{workspace.slug}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_outsider_gets_404_on_the_portal(outsider_client, workspace, partner_user):
    assert outsider_client.get(f"/portal/{workspace.slug}/").status_code == 404


def test_staff_without_a_partner_login_get_404_on_the_portal(owner_client, workspace):
    assert owner_client.get(f"/portal/{workspace.slug}/").status_code == 404


def test_a_partner_of_another_workspace_gets_404_on_this_portal(workspace, other_workspace):
    stranger = PartnerUserFactory(partner__workspace=other_workspace).user

    assert client_for(stranger).get(f"/portal/{workspace.slug}/").status_code == 404


def test_a_person_with_partner_logins_in_two_workspaces_sees_both_in_the_switcher(workspace, other_workspace):
    user = UserFactory()
    PartnerUserFactory(partner__workspace=workspace, partner__name="Acme Agency", user=user)
    other = PartnerUserFactory(partner__workspace=other_workspace, partner__name="Globex Reseller", user=user)

    response = client_for(user).get(f"/portal/{workspace.slug}/")

    assert b"Acme Agency" in response.content and b"Globex Reseller" in response.content
    assert f"/portal/{other_workspace.slug}/?partner={other.partner_id}".encode() in response.content


def test_two_partners_in_one_workspace_are_chosen_with_the_partner_parameter(workspace):
    user = UserFactory()
    PartnerUserFactory(partner__workspace=workspace, partner__name="Alpha Agency", user=user)
    beta = PartnerUserFactory(partner__workspace=workspace, partner__name="Beta Blog", user=user)
    client = client_for(user)

    assert client.get(f"/portal/{workspace.slug}/").context["partner"].name == "Alpha Agency"
    assert client.get(f"/portal/{workspace.slug}/?partner={beta.partner_id}").context["partner"].name == "Beta Blog"
    assert client.get(f"/portal/{workspace.slug}/").context["partner"].name == "Beta Blog"


def test_another_persons_partner_in_the_parameter_is_ignored(partner_client, workspace, partner_user):
    someone_else = PartnerUserFactory(partner__workspace=workspace)

    response = partner_client.get(f"/portal/{workspace.slug}/?partner={someone_else.partner_id}")

    assert response.context["partner"] == PartnerUser.objects.get(user=partner_user).partner


def test_portal_home_lists_the_partners_recent_referrals_but_not_another_partners(
    partner_client, workspace, partner_user
):
    mine = PartnerUser.objects.get(user=partner_user).partner
    ReferralFactory(workspace=workspace, partner=mine, customer_name="Mine Ltd")
    ReferralFactory(workspace=workspace, customer_name="Theirs Ltd")
    page = partner_client.get(f"/portal/{workspace.slug}/").content.decode()
    assert "Mine Ltd" in page and "Theirs Ltd" not in page


def _partner_of(user):
    return PartnerUser.objects.get(user=user).partner


def test_the_portal_home_leads_with_the_partners_link_and_a_copy_button(partner_client, workspace, partner_user):
    DomainFactory(workspace=workspace, domain="shop.example.com")

    body = partner_client.get(f"/portal/{workspace.slug}/").content.decode()

    link = Link.objects.for_workspace(workspace).get(partner=_partner_of(partner_user), is_default=True)
    assert f"/r/{link.code}</code>" in body
    assert 'data-copy-from="#share-link"' in body
    assert body.index("Your link") < body.index("Recent activity")


def test_the_portal_home_shows_a_qr_code_of_the_link_inline(partner_client, workspace, partner_user):
    DomainFactory(workspace=workspace, domain="shop.example.com")

    body = partner_client.get(f"/portal/{workspace.slug}/").content.decode()

    assert 'src="data:image/svg+xml' in body and 'alt="QR code that opens your link"' in body


def test_the_portal_home_shows_the_partners_referral_code(partner_client, workspace, partner_user):
    code = ReferralCodeFactory(workspace=workspace, partner=_partner_of(partner_user), code="PAULA20")

    body = partner_client.get(f"/portal/{workspace.slug}/").content.decode()

    assert f'<strong id="share-code">{code.code}</strong>' in body


def test_without_a_verified_domain_the_portal_home_says_the_link_is_coming(partner_client, workspace, partner_user):
    body = partner_client.get(f"/portal/{workspace.slug}/").content.decode()

    assert "Your link is on its way" in body
