"""A manager works the fraud review queue in headless Chromium: reads why each commission is held,
selects them all and clears them; the partner sees "Under review" on its commission."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.services import create_workspace
from attribution.fraud.review import flag_partner, reply_to_review
from attribution.models import Commission
from partners.services import ensure_default_program
from tests.accounts.factories import UserFactory
from tests.attribution.conftest import JAN, click_of, sale, send
from tests.partners.factories import PartnerFactory, PartnerUserFactory
from tests.referrals.factories import ClickFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
SLUG = "acme-rockets"
SHOTS = Path(os.environ.get("TANDEM_SHOTS", "/tmp/shots/h5"))


@pytest.fixture
def held(transactional_db):
    created = create_workspace(slug=SLUG, name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD)
    workspace = created.workspace
    program = ensure_default_program(workspace=workspace)
    anna = PartnerFactory(workspace=workspace, program=program, name="Anna Lopez", email="anna@lopez-media.com")
    ben = PartnerFactory(workspace=workspace, program=program, name="Ben Okafor", email="ben@okafor.io")
    PartnerUserFactory(partner=anna, workspace=workspace, user=UserFactory(email="anna@portal.test", password=PASSWORD))
    own = click_of(anna, at=JAN - timedelta(days=1))
    click_of(ben, at=JAN - timedelta(days=1, hours=1), visitor_hash=own.visitor_hash)
    fast = click_of(ben, at=JAN - timedelta(seconds=9), ip_hash="office")
    for n in range(60):
        ClickFactory(
            link=fast.link, partner=ben, workspace=workspace, ip_hash="office", clicked_at=JAN - timedelta(minutes=n)
        )
    clean = click_of(anna, at=JAN - timedelta(days=3))
    send(
        workspace,
        sale("s1", "cus_1", "240.00", click_id=own.click_id, customer_email="anna+test@lopez-media.com"),
        sale("s2", "cus_2", "99.00", click_id=fast.click_id, customer_email="zed@mailinator.com"),
        sale("s3", "cus_3", "49.00", click_id=clean.click_id, customer_email="maria@example.org"),
    )
    flag_partner(workspace=workspace, partner=ben, reason="Many refunds last month", by=None)
    first = Commission.objects.for_workspace(workspace).get(conversion__event_id="s1")
    reply_to_review(workspace=workspace, commission=first, message="That was my own test purchase, sorry.", by=None)
    return first.pk


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_queue_explains_each_held_commission(held, browser, live_server, width, height):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    _sign_in(page, live_server.url, "owner@acme.test")
    page.goto(f"{live_server.url}/w/{SLUG}/review/")
    expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
    expect(page.get_by_text("own mailbox with a +tag: a self-referral.")).to_be_visible()
    expect(page.get_by_text("That was my own test purchase, sorry.")).to_be_visible()
    page.screenshot(path=SHOTS / f"review-queue-{width}.png", full_page=True)
    page.goto(f"{live_server.url}/w/{SLUG}/commissions/{held}/")
    expect(page.get_by_role("heading", name="Fraud risk")).to_be_visible()
    page.screenshot(path=SHOTS / f"flagged-commission-{width}.png", full_page=True)
    page.goto(f"{live_server.url}/w/{SLUG}/review/")
    page.get_by_role("link", name="Fraud settings").click()
    expect(page.get_by_label("Hold commissions scoring at least")).to_have_value("70")
    page.screenshot(path=SHOTS / f"fraud-settings-{width}.png", full_page=True)


def test_the_manager_selects_all_and_clears_them(held, browser, live_server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, live_server.url, "owner@acme.test")
    page.goto(f"{live_server.url}/w/{SLUG}/review/")
    page.get_by_label(re.compile(r"Select all 2 held commissions")).check()
    page.get_by_role("button", name="Clear", exact=True).click()
    expect(page.get_by_text("2 commissions cleared.")).to_be_visible()
    expect(page.get_by_role("heading", name="Nothing to review")).to_be_visible()


def test_the_partner_sees_under_review(held, browser, live_server):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(page, live_server.url, "anna@portal.test")
    page.goto(f"{live_server.url}/portal/{SLUG}/commissions/{held}/")
    expect(page.get_by_role("heading", name="Under review")).to_be_visible()
    expect(page.get_by_text("You explained on")).to_be_visible()
    page.screenshot(path=SHOTS / "portal-under-review-390.png", full_page=True)
