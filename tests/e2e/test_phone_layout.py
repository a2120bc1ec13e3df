"""On a 390 px phone: the menu folds behind a labelled Menu button, sign-out stays in view, and manager
tables become cards that keep amount and status on screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.services import create_workspace
from tests.attribution.factories import CommissionFactory
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import ReferralFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def acme(transactional_db):
    workspace = create_workspace(
        slug="acme-rockets", name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD
    ).workspace
    partner = PartnerFactory(workspace=workspace, name="Brightside Media")
    for _ in range(3):
        CommissionFactory(
            workspace=workspace,
            conversion__referral=ReferralFactory(workspace=workspace, partner=partner),
            conversion__program=partner.program,
            program=partner.program,
        )
    return workspace


def _sign_in(page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Acme Rockets", level=1)).to_be_visible()


def test_the_menu_folds_behind_a_menu_button_on_a_phone(acme, browser, live_server, screenshot_dir):
    page = browser.new_page(viewport=PHONE)
    _sign_in(page, live_server)
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Workspace")

    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out").first).to_be_visible()
    page.screenshot(path=screenshot_dir / "phone-menu-closed-390.png")

    menu.click()

    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Commissions")).to_be_visible()
    page.screenshot(path=screenshot_dir / "phone-menu-open-390.png", full_page=True)


def test_the_desktop_keeps_its_sidebar_and_no_menu_button(acme, browser, live_server):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    _sign_in(page, live_server)

    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Partners")).to_be_visible()


def test_commission_rows_are_cards_with_amount_and_status_in_view(acme, browser, live_server, screenshot_dir):
    page = browser.new_page(viewport=PHONE)
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme-rockets/commissions/")

    row = page.locator("table.cards tbody tr").first
    for label in ("Amount", "Status"):
        cell = row.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=screenshot_dir / "phone-commissions-390.png", full_page=True)


def test_the_partner_list_is_cards_with_what_each_partner_is_owed(acme, browser, live_server, screenshot_dir):
    page = browser.new_page(viewport=PHONE)
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme-rockets/partners/")

    owed = page.locator('table.cards tbody tr td[data-label="Owed"]').first
    expect(owed).to_be_visible()
    box = owed.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=screenshot_dir / "phone-partners-390.png", full_page=True)
