"""Every partner gets a default link (and a referral code) the moment it joins, however it joins."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from partners import services as partner_services
from partners.models import Partner, PartnerInvitation
from referrals.default_links import ensure_default_link
from referrals.models import Link, ReferralCode
from tests.accounts.factories import DomainFactory
from tests.partners.factories import PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _default_links(partner):
    return list(Link.objects.for_workspace(partner.workspace).filter(partner=partner, is_default=True))


def test_a_partner_added_by_a_manager_gets_a_link_to_the_first_verified_domain_at_once(workspace, domain, manager):
    partner, _ = partner_services.create_partner(workspace=workspace, name="Ada", email="ada@x.test", by=manager)

    [link] = _default_links(partner)
    assert link.destination_url == "https://shop.example.com/"


def test_the_default_link_goes_to_the_programs_default_destination_when_one_is_set(workspace, domain):
    program = ProgramFactory(workspace=workspace, default_destination="https://shop.example.com/partners")

    partner, _ = partner_services.create_partner(workspace=workspace, name="Ada", email="ada@x.test", program=program)

    assert _default_links(partner)[0].destination_url == "https://shop.example.com/partners"


def test_a_new_partner_also_gets_a_referral_code(workspace, domain):
    partner, _ = partner_services.create_partner(workspace=workspace, name="Ada", email="ada@x.test")

    assert ReferralCode.objects.for_workspace(workspace).filter(partner=partner).count() == 1


def test_asking_again_for_the_default_link_makes_no_second_one(workspace, domain):
    partner, _ = partner_services.create_partner(workspace=workspace, name="Ada", email="ada@x.test")

    again = ensure_default_link(partner=partner)

    assert _default_links(partner) == [again]


def test_without_a_verified_domain_a_partner_has_no_default_link_yet(workspace):
    partner, _ = partner_services.create_partner(workspace=workspace, name="Ada", email="ada@x.test")

    assert ensure_default_link(partner=partner) is None


def test_an_approved_applicant_gets_its_default_link(workspace, domain, manager):
    applicant = PartnerFactory(workspace=workspace, status=Partner.Status.PENDING)
    assert ensure_default_link(partner=applicant) is None

    partner_services.approve_partner(partner=applicant, by=manager, notify=False)

    assert len(_default_links(applicant)) == 1


def test_a_partner_accepting_its_invitation_has_its_default_link(workspace, domain):
    partner = PartnerFactory(workspace=workspace, status=Partner.Status.INVITED)  # added before default links
    invitation = PartnerInvitation.objects.create(workspace=workspace, partner=partner, email=partner.email)
    user = get_user_model().objects.create_user(email=partner.email, password="a-long-password-1")

    partner_services.accept_partner_invitation(invitation=invitation, user=user)

    assert len(_default_links(partner)) == 1


def test_a_link_made_once_a_domain_is_verified_lands_on_that_domain(workspace):
    partner, _ = partner_services.create_partner(workspace=workspace, name="Ada", email="ada@x.test")
    DomainFactory(workspace=workspace, domain="later.example.com")

    assert ensure_default_link(partner=partner).destination_url == "https://later.example.com/"
