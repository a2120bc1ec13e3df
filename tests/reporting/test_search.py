"""The staff header's global search: partners, customers, links, codes and events, grouped, in one workspace."""

from __future__ import annotations

import pytest

from partners.services import ensure_default_program
from tests.attribution.factories import InboundEventFactory
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import LinkFactory, ReferralCodeFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(workspace):
    return ensure_default_program(workspace=workspace)


@pytest.fixture
def partner(workspace, program):
    return PartnerFactory(workspace=workspace, program=program, name="Brightside Media", email="paula@brightside.test")


def _search(client, workspace, q):
    return client.get(f"/w/{workspace.slug}/search/", {"q": q})


def test_partners_are_found_by_part_of_their_name_email_or_company(manager_client, workspace, program):
    PartnerFactory(workspace=workspace, program=program, name="Northwind Media")
    PartnerFactory(workspace=workspace, program=program, name="A", email="north@x.test")
    PartnerFactory(workspace=workspace, program=program, name="B", company="North Co")
    PartnerFactory(workspace=workspace, program=program, name="Southwind")

    results = _search(manager_client, workspace, "north").context["results"]

    assert {p.name for p in results.partners} == {"Northwind Media", "A", "B"}


def test_a_customer_is_found_by_its_id_or_email_with_its_partner(manager_client, workspace, partner):
    ReferralFactory(workspace=workspace, partner=partner, customer_external_id="cus_777", customer_email="jo@acme.test")

    by_id = _search(manager_client, workspace, "cus_777")
    by_email = _search(manager_client, workspace, "JO@acme.test")

    assert [r.customer_external_id for r in by_id.context["results"].customers] == ["cus_777"]
    assert [r.customer_external_id for r in by_email.context["results"].customers] == ["cus_777"]
    assert partner.name in by_id.content.decode()


def test_links_and_codes_are_found_by_their_code_whatever_the_case(manager_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner, code="spring24")
    ReferralCodeFactory(workspace=workspace, partner=partner, code="SPRING24")

    response = _search(manager_client, workspace, "Spring24")

    results = response.context["results"]
    assert [x.pk for x in results.links] == [link.pk]
    assert [c.code for c in results.codes] == ["SPRING24"]
    assert f'href="/w/{workspace.slug}/links/{link.pk}/"' in response.content.decode()


def test_an_event_is_found_by_its_event_id(manager_client, workspace):
    InboundEventFactory(workspace=workspace, event_id="evt_stripe_42")

    response = _search(manager_client, workspace, "evt_stripe_42")

    assert [e.event_id for e in response.context["results"].events] == ["evt_stripe_42"]
    assert f"/w/{workspace.slug}/events/?q=evt_stripe_42" in response.content.decode()


def test_results_are_grouped_with_a_heading_each(manager_client, workspace, partner):
    content = _search(manager_client, workspace, "bright").content.decode()

    for heading in ("Partners", "Customers", "Links and referral codes", "Events"):
        assert f">{heading} <span" in content


def test_another_workspaces_rows_are_never_found(manager_client, workspace, other_workspace, partner):
    foreign = PartnerFactory(workspace=other_workspace, name="Brightside Elsewhere")
    ReferralFactory(workspace=other_workspace, partner=foreign, customer_external_id="cus_x")
    LinkFactory(workspace=other_workspace, partner=foreign, code="elsewhere1")
    InboundEventFactory(workspace=other_workspace, event_id="evt_elsewhere")

    for q in ("bright", "cus_x", "elsewhere1", "evt_elsewhere"):
        results = _search(manager_client, workspace, q).context["results"]
        assert foreign.pk not in {p.pk for p in results.partners}
        assert results.customers == results.links == results.events == []


def test_each_group_shows_at_most_ten(manager_client, workspace, program):
    PartnerFactory.create_batch(14, workspace=workspace, program=program, company="Acme Resellers")

    assert len(_search(manager_client, workspace, "resellers").context["results"].partners) == 10


def test_a_one_letter_search_asks_for_more(manager_client, workspace, partner):
    response = _search(manager_client, workspace, "b")

    assert response.context["results"].count == 0
    assert "Type at least two characters" in response.content.decode()


def test_nothing_found_says_so(manager_client, workspace, partner):
    assert "Nothing in Acme matches" in _search(manager_client, workspace, "zzzz").content.decode()


def test_every_staff_role_may_search(viewer_client, finance_client, workspace, partner):
    assert _search(viewer_client, workspace, "bright").status_code == 200
    assert _search(finance_client, workspace, "bright").status_code == 200


def test_the_search_box_is_in_the_header_of_staff_pages(manager_client, workspace):
    content = manager_client.get(f"/w/{workspace.slug}/partners/").content.decode()

    assert f'action="/w/{workspace.slug}/search/" role="search"' in content


def test_an_outsider_gets_404_on_search(outsider_client, workspace):
    assert _search(outsider_client, workspace, "bright").status_code == 404


def test_a_partner_login_gets_404_on_search(partner_client, workspace):
    assert _search(partner_client, workspace, "bright").status_code == 404
