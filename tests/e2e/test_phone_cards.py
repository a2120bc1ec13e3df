"""On a 390 px phone the remaining manager and portal tables read as cards: each row's status, figures
and actions stay on screen, and no page scrolls sideways. Screenshots: tests/e2e/screenshots/cards-*-390.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.services import create_workspace
from tests.accounts.factories import UserFactory
from tests.attribution.factories import InboundEventFactory
from tests.partners.factories import PartnerFactory, PartnerUserFactory
from tests.referrals.factories import DealRegistrationFactory, LinkFactory, ReferralCodeFactory, ReferralFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
PHONE = {"width": 390, "height": 844}
SLUG = "acme-rockets"
# Page, and the labelled cells that must stay in view on its first row.
STAFF_PAGES = {
    "referrals": ("referrals/", ("Partner", "Stage")),
    "links": ("links/", ("Partner", "Clicks")),
    "events": ("events/", ("Type", "State", "Why")),
    "deals": ("deals/", ("Estimated value", "Status")),
    "codes": ("codes/", ("Partner", "Referrals")),
}


@pytest.fixture
def acme(transactional_db):
    workspace = create_workspace(
        slug=SLUG, name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD
    ).workspace
    partner = PartnerFactory(workspace=workspace, name="Brightside Media")
    link = LinkFactory(workspace=workspace, partner=partner, destination_url="https://shop.example.com/" + "x" * 80)
    ReferralFactory(workspace=workspace, partner=partner, customer_email="a-rather-long-address@customer.example")
    ReferralCodeFactory(workspace=workspace, partner=partner)
    DealRegistrationFactory(workspace=workspace, partner=partner)
    InboundEventFactory(workspace=workspace, event_id="order-with-a-long-id-" + "9" * 30)
    user = UserFactory(email="paula@partner.test")
    user.set_password(PASSWORD)
    user.save()
    PartnerUserFactory(partner=partner, user=user)
    return link


def _sign_in(page, live_server, email: str, start: str) -> None:
    page.goto(f"{live_server.url}{start}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_manager_tables_are_cards_with_their_key_cells_in_view(acme, browser, live_server, screenshot_dir):
    page = browser.new_page(viewport=PHONE)
    _sign_in(page, live_server, "owner@acme.test", "/login/")
    for name, (path, labels) in STAFF_PAGES.items():
        page.goto(f"{live_server.url}/w/{SLUG}/{path}")
        row = page.locator("table.cards tbody tr").first
        for label in labels:
            cell = row.locator(f'td[data-label="{label}"]')
            expect(cell).to_be_visible()
            box = cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, label)
        _no_sideways_scroll(page)
        page.screenshot(path=screenshot_dir / f"cards-{name}-390.png", full_page=True)


def test_an_unattributed_sale_can_be_credited_from_a_phone(acme, browser, live_server):
    page = browser.new_page(viewport=PHONE)
    _sign_in(page, live_server, "owner@acme.test", "/login/")
    page.goto(f"{live_server.url}/w/{SLUG}/events/")

    expect(page.get_by_role("link", name="Credit to a partner")).to_be_visible()


def test_the_partners_referrals_are_cards(acme, browser, live_server, screenshot_dir):
    page = browser.new_page(viewport=PHONE)
    _sign_in(page, live_server, "paula@partner.test", f"/portal/{SLUG}/")
    page.goto(f"{live_server.url}/portal/{SLUG}/referrals/")

    expect(page.locator('table.cards tbody tr td[data-label="Stage"]').first).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "cards-portal-referrals-390.png", full_page=True)
