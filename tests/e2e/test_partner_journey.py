"""The invited partner's journey in headless Chromium: a manager invites them, they open the emailed
link, set a password, land in the portal, and see their link's clicks once the click buffer is flushed."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from accounts.services import create_workspace
from partners.services import ensure_default_program
from referrals.clicks import buffer, flusher

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
PARTNER_PASSWORD = "partner-e2e-pass-2026"
SLUG = "acme-rockets"
CODE = "paula-e2e"
CLICKS = 3


def _clear_click_buffer() -> None:
    # Keys are namespaced by the test database's name: this touches only this test run's keys.
    r = buffer.client()
    keys = list(r.scan_iter(match=buffer.namespace() + ":*", count=1000))
    if keys:
        r.delete(*keys)


@pytest.fixture
def acme(transactional_db):
    workspace = create_workspace(
        slug=SLUG,
        name="Acme Rockets",
        owner_email="owner@acme.test",
        owner_password=PASSWORD,
        domains=["shop.example.com"],
    ).workspace
    ensure_default_program(workspace=workspace)  # as `manage.py create_workspace` does
    manager = User.objects.create_user(email="manager@acme.test", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=manager, role=Role.MANAGER)
    _clear_click_buffer()
    yield workspace
    _clear_click_buffer()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _visit(url: str, n: int) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"User-Agent": f"Mozilla/5.0 (e2e visitor {n})"})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:  # a 302 that is not followed surfaces as an HTTPError
        return exc.code, exc.headers.get("Location", "")


def test_an_invited_partner_joins_and_sees_their_link_clicks(acme, browser, live_server, screenshot_dir, off_loop):
    base = live_server.url

    # The manager signs in and invites the partner through the partners page.
    staff = browser.new_context(viewport={"width": 1280, "height": 800})
    page = staff.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("manager@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/w/{SLUG}/$"))
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Partners").click()
    expect(page.get_by_role("heading", name="Partners", level=1)).to_be_visible()
    page.get_by_role("link", name="Invite partner").click()
    expect(page.get_by_role("heading", name="Invite a partner")).to_be_visible()
    page.get_by_label("Name").fill("Paula Picks")
    page.get_by_label("Email address").fill("paula@partner.test")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to paula@partner.test.")).to_be_visible()
    staff.close()

    # The email was sent by the live server's thread to the locmem outbox this process shares.
    invitations = [m for m in mail.outbox if m.to == ["paula@partner.test"]]
    assert len(invitations) == 1, [m.subject for m in mail.outbox]
    assert invitations[0].subject == "You're invited to the Acme Rockets partner program"
    match = re.search(r"https?://\S+(/partner-invitations/[^/\s]+/)", invitations[0].body)
    assert match, invitations[0].body

    # The partner opens the link in a fresh browser, sets a password and lands in the portal.
    partner = browser.new_context(viewport={"width": 390, "height": 844})
    page = partner.new_page()
    page.goto(base + match.group(1))
    expect(page.get_by_role("heading", name="Join Acme Rockets's partner program")).to_be_visible()
    page.get_by_label("First name").fill("Paula")
    page.get_by_label("New password", exact=True).fill(PARTNER_PASSWORD)
    page.get_by_label("New password confirmation").fill(PARTNER_PASSWORD)
    page.get_by_role("button", name="Set password and open the portal").click()
    expect(page).to_have_url(re.compile(rf"/portal/{SLUG}/\?partner=\d+$"))
    expect(page.get_by_text("Welcome to Acme Rockets's partner program.")).to_be_visible()

    # They make a link to the verified domain in the portal.
    page.goto(f"{base}/portal/{SLUG}/links/")
    page.get_by_label("Destination", exact=True).fill("https://shop.example.com/spring")
    page.get_by_label("Code (optional)").fill(CODE)
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_text(f"Your link /r/{CODE} is ready.")).to_be_visible()

    # Visitors follow it: each gets a 302 to the destination with its click id.
    for n in range(CLICKS):
        status, location = _visit(f"{base}/r/{CODE}", n)
        assert status == 302
        assert re.fullmatch(r"https://shop\.example\.com/spring\?tclid=[\w-]+", location), location

    # The flusher writes the buffered clicks; the portal now counts them.
    result = off_loop(flusher.flush_clicks, claim_idle_ms=0)
    assert result.stored == CLICKS, result.describe()

    page.reload()
    row = page.get_by_role("listitem").filter(has_text=f"/r/{CODE}")
    expect(row).to_contain_text(f"{CLICKS} clicks")
    expect(row).to_contain_text(f"{CLICKS} unique")
    expect(row).to_contain_text("https://shop.example.com/spring")
    page.screenshot(path=screenshot_dir / "portal-links-390.png", full_page=True)
    partner.close()
