"""An owner looks a customer up on the privacy page, confirms, and erases their personal details."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.services import create_workspace
from tests.referrals.factories import ReferralFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
SHOTS = Path("/tmp/shots/h6")


@pytest.fixture
def acme(transactional_db):
    workspace = create_workspace(
        slug="acme-rockets", name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD
    ).workspace
    ReferralFactory(
        workspace=workspace, customer_external_id="cus_42", customer_email="jane@customer.test", customer_name="Jane"
    )
    return workspace


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_owner_erases_a_customer_after_confirming(acme, browser, live_server, screenshot_dir, width, height):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/w/acme-rockets/$"))

    page.goto(f"{live_server.url}/w/acme-rockets/settings/privacy/")
    page.get_by_label("Customer id").fill("cus_42")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("cell", name="Jane", exact=True)).to_be_visible()
    page.screenshot(path=SHOTS / f"privacy-erase-{width}.png", full_page=True)
    page.screenshot(path=screenshot_dir / f"privacy-erase-{width}.png", full_page=True)

    page.get_by_role("button", name="Erase personal details").click()
    expect(page.get_by_text("Tick the box to confirm the erasure.")).to_be_visible()
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Erase personal details").click()

    expect(page.get_by_text("The customer's personal details are erased.")).to_be_visible()
    expect(page.get_by_role("cell", name="Jane", exact=True)).to_have_count(0)
    expect(page.get_by_role("cell", name=re.compile(r"^erased-"))).to_be_visible()
    page.screenshot(path=SHOTS / f"privacy-erased-{width}.png", full_page=True)
