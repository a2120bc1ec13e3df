"""In headless Chromium: a partner enters its IBAN (a wrong one first), finance previews and executes a
payout run (one Stripe partner paid through a local Stripe stand-in, the SEPA partner confirmed after the
bank file), and the partner sees its statement "Paid" with the date and the method."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from accounts.services import create_workspace
from attribution.integrations.services import set_stripe_secret_key
from partners.models import PartnerUser
from reporting.payouts.runs.models import SepaDebtor
from reporting.payouts.statements import close_payout_period
from tests.partners.factories import PartnerFactory, ProgramFactory
from tests.reporting.payout_helpers import earn
from tests.reporting.payout_run_support import StripeStandIn, give_method

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
SLUG = "acme-runs"


@pytest.fixture
def standin(settings):
    server = StripeStandIn().start()
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield server
    server.stop()


@pytest.fixture
def books(transactional_db, standin, celery_eager):
    """Two partners with an issued statement each: Paula (euros, no payout method yet, has a portal login)
    and Stan (dollars, paid through Stripe)."""
    workspace = create_workspace(
        slug=SLUG, name="Acme Runs", owner_email="owner@runs.test", owner_password=PASSWORD
    ).workspace
    finance = User.objects.create_user(email="finance@runs.test", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=finance, role=Role.FINANCE)
    set_stripe_secret_key(workspace=workspace, secret_key="sk_test_e2e0123456789", by=None)
    SepaDebtor.objects.create(
        workspace=workspace, name="Acme Runs GmbH", iban="DE02120300000000202051", bic="BYLADEM1001"
    )
    eur = ProgramFactory(workspace=workspace, name="Partners EU", currency="EUR")
    usd = ProgramFactory(workspace=workspace, name="Partners US", currency="USD")
    paula = PartnerFactory(workspace=workspace, program=eur, name="Paula Picks", email="paula@partner.test")
    stan = PartnerFactory(workspace=workspace, program=usd, name="Stan Stripe", email="stan@partner.test")
    give_method(stan, "stripe_connect", account_id="acct_1StanStripe")
    earn(paula, "84.20")
    earn(stan, "150.00")
    close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 10, 5), email_partners=False)
    user = User.objects.create_user(email="paula@partner.test", password=PASSWORD)
    PartnerUser.objects.create(workspace=workspace, partner=paula, user=user)
    return workspace


def _sign_in(browser, base: str, email: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def test_a_partner_enters_its_iban_and_is_paid_by_a_payout_run(books, browser, live_server, standin, screenshot_dir):
    base = live_server.url

    # The partner chooses SEPA; a mistyped IBAN is refused next to the field.
    partner_context, portal = _sign_in(browser, base, "paula@partner.test")
    portal.goto(f"{base}/portal/{SLUG}/payout-settings/")
    portal.get_by_label("Bank transfer (SEPA, in euros)").check()
    portal.get_by_label("Account holder").fill("Paula Picks")
    portal.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 01")
    portal.get_by_role("button", name=re.compile("Save payout details")).click()
    expect(portal.get_by_text(re.compile("check digits do not match"))).to_be_visible()
    portal.get_by_label("Bank transfer (SEPA, in euros)").check()
    portal.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    portal.get_by_role("button", name=re.compile("Save payout details")).click()
    expect(portal.get_by_text("Payout details saved")).to_be_visible()

    # Finance previews the run: who is paid how, then executes it.
    finance_context, page = _sign_in(browser, base, "finance@runs.test")
    page.goto(f"{base}/w/{SLUG}/payouts/")
    page.get_by_role("link", name="Pay partners (payout runs)").click()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "payout-run-start-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Preview the run").click()
    expect(page.get_by_role("heading", name="Preview: nothing is paid yet")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Stripe · 1 statement"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^SEPA bank transfer · 1 statement"))).to_be_visible()
    page.screenshot(path=screenshot_dir / "payout-run-preview-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "payout-run-preview-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Execute: pay 2 statements").click()
    expect(page.get_by_text(re.compile("Payout run started"))).to_be_visible()
    stan_row = page.get_by_role("row").filter(has_text="Stan Stripe")
    expect(stan_row).to_contain_text("Paid")
    expect(page.get_by_role("link", name=re.compile("SEPA file for your bank"))).to_be_visible()

    # The bank ran the SEPA file: finance confirms it.
    page.get_by_label(re.compile("^Paid: Paula Picks")).check()
    page.get_by_label("Bank or PayPal reference (optional)").fill("BANK-2026-10")
    page.get_by_role("button", name="Confirm ticked payments").click()
    expect(page.get_by_text(re.compile("1 payment confirmed"))).to_be_visible()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    page.screenshot(path=screenshot_dir / "payout-run-done-1280.png", full_page=True)
    finance_context.close()

    # The partner sees its statement paid, when and how.
    portal.goto(f"{base}/portal/{SLUG}/statements/")
    row = portal.get_by_role("row").filter(has_text="84.20 EUR")
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text(re.compile(r"Paid on \d{1,2} \w{3} \d{4} via SEPA bank transfer"))
    portal.screenshot(path=screenshot_dir / "payout-run-statement-paid-1280.png", full_page=True)
    portal.set_viewport_size({"width": 390, "height": 844})
    portal.screenshot(path=screenshot_dir / "payout-run-statement-paid-390.png", full_page=True)
    partner_context.close()

    assert [r.form["destination"] for r in standin.transfers()] == ["acct_1StanStripe"]
