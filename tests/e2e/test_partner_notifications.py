"""In a browser: a partner signs in through its business's page, sees the brand and an announcement on
its portal home, closes it; the announcement's email looks like the business too. Screenshots at 1280
and 390 px go to tests/e2e/screenshots/ (and TANDEM_SHOTS_DIR when set)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from PIL import Image

from accounts.branding import update_branding
from partners.notifications.announcements import publish_announcement
from partners.notifications.sending import send_pending
from tests.accounts.factories import UserFactory, WorkspaceFactory
from tests.partners.factories import PartnerUserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-partner-password"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _logo() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (120, 40), "#0f766e")
    for x in range(10, 40):
        for y in range(8, 32):
            image.putpixel((x, y), (255, 255, 255))
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def branded(transactional_db):
    workspace = WorkspaceFactory(slug="acme", name="Acme")
    update_branding(
        workspace=workspace,
        by=None,
        name="Acme Cloud",
        brand_color="#0f766e",
        support_email="partners@acme.test",
        logo_url="",
        logo=_logo(),
    )
    user = UserFactory(email="nina@partner.test")
    user.set_password(PASSWORD)
    user.save()
    login = PartnerUserFactory(partner__workspace=workspace, partner__name="Nina Studio", user=user)
    publish_announcement(
        workspace=workspace,
        title="Double commission in May",
        body="Every **May** sale earns twice the usual commission.\n\nDetails: https://acme.test/may",
        group=None,
        by=None,
    )
    send_pending(workspace_id=workspace.pk)
    return login.partner


def _save(shot: Path) -> None:
    extra = os.environ.get("TANDEM_SHOTS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(extra) / shot.name)


@pytest.mark.parametrize("size", WIDTHS)
def test_a_partner_sees_the_brand_and_the_announcement_and_closes_it(
    branded, browser, live_server, screenshot_dir, size
):
    width, height = WIDTHS[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{live_server.url}/portal/acme/")
    assert page.get_by_text("Sign in to the Acme Cloud partner portal").is_visible()
    login_shot = screenshot_dir / f"branded-login-{size}.png"
    page.screenshot(path=str(login_shot))
    _save(login_shot)
    page.get_by_label("Email").fill("nina@partner.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/portal/acme/**")
    assert page.get_by_role("link", name="Acme Cloud partner portal home").is_visible()
    announcement = page.get_by_role("heading", name="Double commission in May")
    assert announcement.is_visible()
    home_shot = screenshot_dir / f"portal-announcement-{size}.png"
    page.screenshot(path=str(home_shot), full_page=False)
    _save(home_shot)

    page.get_by_role("button", name="Close the announcement “Double commission in May”").click()
    announcement.wait_for(state="detached")
    page.reload()
    assert page.get_by_role("heading", name="Double commission in May").count() == 0
    page.close()


@pytest.mark.parametrize("size", WIDTHS)
def test_the_announcement_email_looks_like_the_business(branded, browser, live_server, screenshot_dir, size):
    (message,) = mail.outbox
    # The email's links and logo point at SITE_URL; here the live server stands in for it.
    html = message.alternatives[0].content.replace(settings.SITE_URL, live_server.url)
    width, height = WIDTHS[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_content(html, wait_until="networkidle")
    assert page.get_by_text("Acme Cloud").first.is_visible()
    assert page.get_by_role("link", name="Stop emails about announcements").is_visible()
    shot = screenshot_dir / f"email-announcement-{size}.png"
    page.screenshot(path=str(shot), full_page=True)
    _save(shot)
    page.close()


@pytest.fixture
def owner_of_branded(branded):
    from accounts.models import Role
    from tests.accounts.factories import MembershipFactory

    owner = UserFactory(email="owner@acme.test")
    owner.set_password(PASSWORD)
    owner.save()
    MembershipFactory(workspace=branded.workspace, user=owner, role=Role.OWNER)
    return owner


@pytest.mark.parametrize("size", WIDTHS)
def test_an_owner_sees_the_branding_and_announcement_pages(
    owner_of_branded, browser, live_server, screenshot_dir, size
):
    width, height = WIDTHS[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    for path, name in (("settings/branding/", "branding-settings"), ("announcements/", "announcements")):
        page.goto(f"{live_server.url}/w/acme/{path}")
        shot = screenshot_dir / f"{name}-{size}.png"
        page.screenshot(path=str(shot), full_page=True)
        _save(shot)
    assert page.get_by_role("cell", name="All partners").is_visible()
    page.close()
