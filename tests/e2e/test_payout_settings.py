"""A partner chooses to be paid by SEPA in headless Chromium: a mistyped IBAN is refused next to the
field, the corrected one is saved and shown masked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import create_workspace
from partners.models import Partner
from partners.payout_methods import current_payout_method
from partners.services import ensure_default_program, link_partner_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "partner-e2e-pass-2026"
SLUG = "acme-payouts"


@pytest.fixture
def partner(transactional_db):
    workspace = create_workspace(
        slug=SLUG, name="Acme Payouts", owner_email="owner@acme-payouts.test", owner_password=PASSWORD
    ).workspace
    program = ensure_default_program(workspace=workspace)
    partner = Partner.objects.create(workspace=workspace, program=program, name="Paula", email="paula@e2e.test")
    user = User.objects.create_user(email="paula@e2e.test", password=PASSWORD)
    link_partner_user(partner=partner, user=user)
    return partner


def test_a_partner_corrects_a_mistyped_iban_and_sees_it_masked(partner, browser, live_server, screenshot_dir, off_loop):
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("paula@e2e.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/portal/{SLUG}/payout-settings/")

    page.get_by_label("Bank transfer (SEPA, in euros)").check()
    page.get_by_label("Account holder").fill("Paula Park")
    page.get_by_label("IBAN").fill("DE88 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Save payout details").click()
    expect(page.get_by_text("This IBAN's check digits do not match")).to_be_visible()
    page.screenshot(path=screenshot_dir / "payout-settings-wrong-iban-390.png", full_page=True)

    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Save payout details").click()

    expect(page.get_by_text("SEPA transfer to DE89 •••• 3000")).to_be_visible()
    page.screenshot(path=screenshot_dir / "payout-settings-saved-390.png", full_page=True)
    method = off_loop(current_payout_method, partner)
    assert (method.type, method.fields["iban"], method.fields["bic"]) == (
        "sepa",
        "DE89370400440532013000",
        "COBADEFFXXX",
    )
