"""An owner turns on two-factor sign-in in headless Chromium with a code computed from the key the
page shows (as an authenticator app would), then signs in again with the password and a fresh code."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts.services import create_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
SHOTS = Path("/tmp/shots/h6")


@pytest.fixture
def acme(transactional_db):
    return create_workspace(
        slug="acme-rockets", name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD
    ).workspace


def app_code(key: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for this key now (or a 30-second step later)."""
    totp = TOTP(b32decode(key.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def sign_in_with_password(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_owner_turns_on_two_factor_and_signs_in_with_a_totp_code(
    acme, browser, live_server, screenshot_dir, width, height
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in_with_password(page, live_server.url)
    expect(page).to_have_url(re.compile(r"/w/acme-rockets/$"))

    page.goto(f"{live_server.url}/account/two-factor/")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    page.screenshot(path=SHOTS / f"two-factor-setup-{width}.png", full_page=True)
    page.screenshot(path=screenshot_dir / f"two-factor-setup-{width}.png", full_page=True)
    key = page.get_by_test_id("totp-key").inner_text()
    page.get_by_label("Six-digit code from the app").fill(app_code(key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.screenshot(path=SHOTS / f"two-factor-codes-{width}.png", full_page=True)
    page.get_by_role("link", name="I have saved them — continue").click()

    page.context.clear_cookies()
    sign_in_with_password(page, live_server.url)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.screenshot(path=SHOTS / f"two-factor-code-step-{width}.png", full_page=True)
    page.get_by_label("Code").fill("000000" if app_code(key, steps_ahead=1) != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()

    time.sleep(1.1)  # django-otp's throttle: one second after a wrong code
    page.get_by_label("Code").fill(app_code(key, steps_ahead=1))  # a step the set-up code did not use
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/w/acme-rockets/$"))
    expect(page.get_by_role("heading", name="Acme Rockets", level=1)).to_be_visible()
