"""The partner portal's links, codes, referrals and deals: a partner sees and makes only its own."""

from __future__ import annotations

import pytest

from partners.models import Partner
from referrals.models import DealRegistration, Link, ReferralCode
from tests.conftest import client_for
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import (
    ClickFactory,
    DealRegistrationFactory,
    LinkFactory,
    ReferralCodeFactory,
    ReferralFactory,
)


@pytest.fixture
def portal(portal_user):
    return client_for(portal_user)


@pytest.fixture
def rival(workspace, partner):
    return PartnerFactory(workspace=workspace, program=partner.program, name="Rival Reviews")


def test_partner_sees_only_its_own_links_with_click_counts(portal, workspace, partner, rival):
    mine = LinkFactory(workspace=workspace, partner=partner, code="paula")
    ClickFactory.create_batch(2, link=mine)
    LinkFactory(workspace=workspace, partner=rival, code="rival-link")
    response = portal.get(f"/portal/{workspace.slug}/links/")
    assert response.status_code == 200
    assert b"/r/paula" in response.content and b"rival-link" not in response.content
    assert [link.counts.clicks for link in response.context["page"].object_list] == [2]


def test_partner_creates_a_link_for_itself(portal, workspace, partner, domain):
    response = portal.post(
        f"/portal/{workspace.slug}/links/", {"destination_url": "https://shop.example.com/", "code": "paula"}
    )
    assert response.status_code == 302
    assert Link.objects.get().partner == partner


def test_partner_sees_why_a_destination_is_refused(portal, workspace, domain):
    response = portal.post(f"/portal/{workspace.slug}/links/", {"destination_url": "https://elsewhere.example.net/"})
    assert response.status_code == 200
    assert "verified domains" in response.context["form"].errors["destination_url"][0]


def test_a_suspended_partner_cannot_make_new_links(portal, workspace, partner, domain):
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.SUSPENDED)
    response = portal.post(f"/portal/{workspace.slug}/links/", {"destination_url": "https://shop.example.com/"})
    assert response.status_code == 200 and not Link.objects.exists()


def test_partner_downloads_its_own_qr_code_but_not_a_rivals(portal, workspace, partner, rival):
    mine = LinkFactory(workspace=workspace, partner=partner)
    theirs = LinkFactory(workspace=workspace, partner=rival)
    assert portal.get(f"/portal/{workspace.slug}/links/{mine.pk}/qr.png").status_code == 200
    assert portal.get(f"/portal/{workspace.slug}/links/{theirs.pk}/qr.svg").status_code == 404


def test_partner_sees_and_creates_only_its_own_codes(portal, workspace, partner, rival):
    ReferralCodeFactory(workspace=workspace, partner=rival, code="RIVAL10")
    response = portal.post(f"/portal/{workspace.slug}/codes/", {"code": "PAULA10"})
    assert response.status_code == 302
    page = portal.get(f"/portal/{workspace.slug}/codes/")
    assert b"PAULA10" in page.content and b"RIVAL10" not in page.content
    assert ReferralCode.objects.get(code="PAULA10").partner == partner


def test_partner_sees_only_its_own_referrals_with_their_stage(portal, workspace, partner, rival):
    ReferralFactory(workspace=workspace, partner=partner, customer_name="Mine Ltd")
    ReferralFactory(workspace=workspace, partner=rival, customer_name="Theirs Ltd")
    response = portal.get(f"/portal/{workspace.slug}/referrals/")
    assert b"Mine Ltd" in response.content and b"Theirs Ltd" not in response.content
    assert b"Lead" in response.content


def test_partner_registers_a_deal(portal, workspace, partner):
    response = portal.post(
        f"/portal/{workspace.slug}/deals/",
        {
            "company": "Initech",
            "contact_name": "Bill",
            "contact_email": "bill@initech.example",
            "estimated_value": "25000",
            "currency": "EUR",
            "notes": "Q3 budget",
        },
    )
    assert response.status_code == 302
    deal = DealRegistration.objects.get()
    assert (deal.partner, deal.currency, deal.status) == (partner, "EUR", DealRegistration.Status.SUBMITTED)


def test_partner_sees_only_its_own_deals_and_not_conflict_notes(portal, workspace, partner, rival):
    DealRegistrationFactory(
        workspace=workspace, partner=partner, company="Initech", conflict_note="Rival Reviews has it"
    )
    DealRegistrationFactory(workspace=workspace, partner=rival, company="Globochem")
    response = portal.get(f"/portal/{workspace.slug}/deals/")
    assert b"Initech" in response.content and b"Globochem" not in response.content
    assert b"Rival Reviews has it" not in response.content


def test_staff_without_a_partner_login_get_404_in_the_portal(manager_client, workspace):
    assert manager_client.get(f"/portal/{workspace.slug}/links/").status_code == 404


def test_outsider_gets_404_on_portal_pages(outsider_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner)
    for url in ("links/", "codes/", "referrals/", "deals/", f"links/{link.pk}/qr.svg"):
        assert outsider_client.get(f"/portal/{workspace.slug}/{url}").status_code == 404, url


def test_a_partner_of_another_workspace_cannot_see_my_qr_codes(portal, workspace, other_workspace):
    foreign = LinkFactory(workspace=other_workspace)
    assert portal.get(f"/portal/{workspace.slug}/links/{foreign.pk}/qr.svg").status_code == 404
    assert portal.get(f"/portal/{other_workspace.slug}/links/{foreign.pk}/qr.svg").status_code == 404
