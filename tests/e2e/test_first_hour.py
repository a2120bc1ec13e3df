"""A partner program's first hour in headless Chromium, as issue 13 asks: a manager invites a partner,
the partner accepts, sees its link and reward in plain words on the portal home and copies the link; a
click and a sale later the partner has an email about its commission and sees it with its reason; the
manager approves all due commissions at once. Each step is photographed at 1280 and 390 px
(tests/e2e/screenshots/first-hour-*.png, and TANDEM_SHOTS_DIR when set)."""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership, Role, User
from accounts.services import create_workspace
from attribution.models import RewardRule
from attribution.processing import process_pending
from partners.notifications.sending import send_pending
from partners.services import ensure_default_program
from referrals.clicks import buffer, flusher

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
PARTNER_PASSWORD = "partner-e2e-pass-2026"
SLUG = "acme-rockets"
REWARD = "20% of every payment for 12 months"
SIZES = {"1280": (1280, 900), "390": (390, 844)}


def _clear_click_buffer() -> None:
    # Keys are namespaced by the test database's name: this touches only this test run's keys.
    r = buffer.client()
    keys = list(r.scan_iter(match=buffer.namespace() + ":*", count=1000))
    if keys:
        r.delete(*keys)


@pytest.fixture
def acme(transactional_db):
    """A fresh workspace with a verified shop, a 20 % for 12 months reward and no hold (so a sale is due at once)."""
    created = create_workspace(
        slug=SLUG,
        name="Acme Rockets",
        owner_email="owner@acme.test",
        owner_password=PASSWORD,
        domains=["shop.example.com"],
        with_api_key=True,
    )
    workspace = created.workspace
    program = ensure_default_program(workspace=workspace)
    program.hold_days = 0
    program.minimum_payout = Decimal("50.00")
    program.save(update_fields=["hold_days", "minimum_payout"])
    RewardRule.objects.create(
        workspace=workspace,
        program=program,
        rule_key="6f1c1c9e-3b7d-4e0b-9a51-5c1b0f8f7a10",
        name="20 % for a year",
        sale_type=RewardRule.SaleType.PERCENT,
        sale_value=Decimal("20"),
        duration=RewardRule.Duration.MONTHS,
        duration_months=12,
        effective_from=timezone.now() - timezone.timedelta(days=1),
    )
    manager = User.objects.create_user(email="manager@acme.test", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=manager, role=Role.MANAGER)
    _clear_click_buffer()
    yield workspace, created.api_key
    _clear_click_buffer()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _click(url: str) -> str:
    """Follow a referral link as a visitor would, without going on to the shop: the shop's URL it sends to."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 (first-hour visitor)"})
    try:
        with opener.open(request, timeout=10) as response:
            return response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:  # a 302 that is not followed surfaces as an HTTPError
        assert exc.code == 302, exc.code
        return exc.headers.get("Location", "")


def _track_sale(base: str, key: str, click_id: str) -> dict:
    body = {
        "event_id": "order-1001",
        "customer_external_id": "cus-1001",
        "customer_email": "jane@customer.test",
        "amount": "149.00",
        "currency": "USD",
        "click_id": click_id,
    }
    request = urllib.request.Request(
        f"{base}/api/v1/track/sale",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.loads(response.read())


def _shoot(page: Page, shots: Path, step: str) -> None:
    """The page at both widths, whole length; the viewport goes back to what it was."""
    before = page.viewport_size
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        shot = shots / f"first-hour-{step}-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        extra = os.environ.get("TANDEM_SHOTS_DIR")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(extra) / shot.name)
    if before:
        page.set_viewport_size(before)


def _sign_in_staff(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("manager@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/w/{SLUG}/$"))


def test_the_first_hour_from_invitation_to_approved_commission(acme, browser, live_server, screenshot_dir, off_loop):
    workspace, key = acme
    base = live_server.url

    # 1. The manager invites the partner.
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    _sign_in_staff(page, base)
    page.goto(f"{base}/w/{SLUG}/partners/invite/")
    expect(page.get_by_role("heading", name="Invite a partner")).to_be_visible()
    page.get_by_label("Name").fill("Paula Picks")
    page.get_by_label("Email address").fill("paula@partner.test")
    _shoot(page, screenshot_dir, "1-invite")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to paula@partner.test.")).to_be_visible()

    # The invitation says what the partner will earn, in words.
    (invitation,) = [m for m in mail.outbox if m.to == ["paula@partner.test"]]
    assert REWARD in invitation.body, invitation.body
    link = re.search(r"https?://\S+(/partner-invitations/[^/\s]+/)", invitation.body)
    assert link, invitation.body

    # 2. The partner accepts and lands on a home that leads with its link and the reward.
    partner_context = browser.new_context(viewport={"width": 1280, "height": 900})
    partner_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    portal = partner_context.new_page()
    portal.goto(base + link.group(1))
    expect(portal.get_by_text(REWARD).first).to_be_visible()
    _shoot(portal, screenshot_dir, "2-accept")
    portal.get_by_label("First name").fill("Paula")
    portal.get_by_label("New password", exact=True).fill(PARTNER_PASSWORD)
    portal.get_by_label("New password confirmation").fill(PARTNER_PASSWORD)
    portal.get_by_role("button", name="Set password and open the portal").click()
    expect(portal).to_have_url(re.compile(rf"/portal/{SLUG}/\?partner=\d+$"))

    share = portal.locator("#share-link")
    expect(share).to_have_text(re.compile(rf"^{re.escape(base)}/r/[\w-]+$|^https?://\S+/r/[\w-]+$"))
    referral_url = share.inner_text().strip()
    code = referral_url.rsplit("/r/", 1)[1]
    expect(portal.get_by_role("region", name="Your link")).to_contain_text(f"You earn {REWARD}")
    terms = portal.get_by_role("region", name="Program terms")
    expect(terms.get_by_role("row", name=re.compile("You earn"))).to_contain_text(REWARD)

    # 3. It copies the link: the button says so and the clipboard holds the link.
    copy = portal.get_by_role("button", name="Copy link")
    copy.click()
    expect(portal.get_by_role("button", name="Copied")).to_be_visible()
    assert portal.evaluate("navigator.clipboard.readText()") == referral_url
    _shoot(portal, screenshot_dir, "3-portal-home")

    # 4. A visitor clicks the link (through this server, whatever host the link names) and buys.
    location = _click(f"{base}/r/{code}")
    tclid = re.fullmatch(r"https://shop\.example\.com/?\?tclid=([\w-]+)", location)
    assert tclid, location
    off_loop(flusher.flush_clicks, claim_idle_ms=0)
    assert _track_sale(base, key, tclid.group(1))["status"] == "accepted"
    result = off_loop(process_pending, workspace=workspace)
    assert (result.attributed, result.commissions) == (1, 1), result
    off_loop(send_pending, workspace_id=workspace.pk)

    # 5. The partner has an email about the commission and sees it, with why, in the portal.
    told = [m for m in mail.outbox if m.to == ["paula@partner.test"] and "commission" in m.subject]
    assert len(told) == 1, [(m.to, m.subject) for m in mail.outbox]
    told = told[0]
    assert "29.80" in told.body, told.body
    portal.goto(f"{base}/portal/{SLUG}/commissions/")
    commission = portal.locator("section.card > ul.activity > li").filter(has_text="29.80")
    expect(commission).to_be_visible()
    commission.get_by_text("Why you earned it").click()
    expect(commission).to_contain_text("149.00")
    _shoot(portal, screenshot_dir, "4-portal-commission")
    partner_context.close()

    # 6. The manager approves everything due with one button.
    page.goto(f"{base}/w/{SLUG}/commissions/")
    approve = page.get_by_role("button", name="Approve all due (1)")
    expect(approve).to_be_visible()
    _shoot(page, screenshot_dir, "5-commissions-due")
    approve.click()
    expect(page.get_by_role("button", name=re.compile("Approve all due"))).to_have_count(0)
    expect(page.locator("#commission-rows")).to_contain_text("Approved")
    _shoot(page, screenshot_dir, "6-approved")
    staff.close()
