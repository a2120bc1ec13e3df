"""The referrals sections on reporting's pages: the manager's partner page and the portal home."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.conftest import client_for
from tests.referrals.factories import (
    ClickFactory,
    DealRegistrationFactory,
    LinkFactory,
    ReferralCodeFactory,
    ReferralFactory,
)


def test_partner_page_shows_links_codes_clicks_and_referrals(manager_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner, code="paula")
    ClickFactory(link=link)
    ClickFactory(link=link, clicked_at=timezone.now() - timedelta(days=3), is_unique=False)
    ReferralCodeFactory(workspace=workspace, partner=partner, code="PAULA10")
    ReferralFactory(workspace=workspace, partner=partner, customer_email="buyer@example.org")
    response = manager_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/r/paula" in body and "PAULA10" in body and "buyer@example.org" in body
    assert "2 clicks (1 unique)" in body  # the chart's text alternative


def test_partner_page_shows_no_rows_of_other_partners(manager_client, workspace, partner):
    LinkFactory(workspace=workspace, code="someone-else")
    response = manager_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/")
    assert b"someone-else" not in response.content


def test_portal_home_counts_the_partners_clicks_leads_and_deals(portal_user, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner)
    ClickFactory.create_batch(3, link=link)
    ClickFactory(link=link, is_unique=False)
    ClickFactory(link=link, is_bot=True, is_unique=False)
    ClickFactory(link=LinkFactory(workspace=workspace))  # another partner's
    ReferralFactory(workspace=workspace, partner=partner)
    DealRegistrationFactory(workspace=workspace, partner=partner)
    response = client_for(portal_user).get(f"/portal/{workspace.slug}/")
    assert response.context["figures"] == {"clicks": 4, "unique_clicks": 3, "leads": 1, "deals": 1}


def test_nav_counts_deals_waiting_for_review(manager_client, workspace, partner):
    DealRegistrationFactory(workspace=workspace, partner=partner)
    response = manager_client.get(f"/w/{workspace.slug}/links/")
    assert b'1<span class="skip-link"> to review' in response.content


def test_outsider_gets_404_on_the_partner_page(outsider_client, workspace, partner):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").status_code == 404
