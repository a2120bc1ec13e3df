"""The commissions list's links carry one "?": a "??page=2" link is read as a parameter named "?page",
so "Older" and the status chips would always land on the first page, unfiltered."""

from __future__ import annotations

import pytest

from tests.attribution.factories import CommissionFactory
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def test_the_older_link_and_status_chips_are_well_formed(manager_client, workspace, monkeypatch):
    monkeypatch.setattr("attribution.views.PAGE_SIZE", 1)
    partner = PartnerFactory(workspace=workspace)
    for _ in range(2):
        CommissionFactory(workspace=workspace, conversion__referral__partner=partner)

    page = manager_client.get(f"/w/{workspace.slug}/commissions/").content.decode()

    assert 'href="?page=2"' in page
    assert 'href="?status=pending"' in page
    assert "??" not in page


def test_following_the_older_link_shows_the_second_page(manager_client, workspace, monkeypatch):
    monkeypatch.setattr("attribution.views.PAGE_SIZE", 1)
    partner = PartnerFactory(workspace=workspace)
    for _ in range(2):
        CommissionFactory(workspace=workspace, conversion__referral__partner=partner)

    response = manager_client.get(f"/w/{workspace.slug}/commissions/", {"page": "2"})

    assert response.context["page"].number == 2
