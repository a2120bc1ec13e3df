"""An owner signs in through the real login page in headless Chromium and lands on the dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.services import create_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"


@pytest.fixture
def acme(transactional_db):
    return create_workspace(
        slug="acme-rockets", name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD
    ).workspace


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_owner_signs_in_and_sees_the_dashboard(acme, browser, live_server, screenshot_dir, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})

    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"login-{width}.png", full_page=True)
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/w/acme-rockets/$"))
    expect(page.get_by_role("heading", name="Acme Rockets", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"dashboard-{width}.png", full_page=True)


def test_a_wrong_password_keeps_the_owner_on_the_login_page(acme, browser, live_server, screenshot_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 800})

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct email address and password")
    page.screenshot(path=screenshot_dir / "login-error-1280.png", full_page=True)
