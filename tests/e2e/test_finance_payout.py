"""Finance closes a payout period in headless Chromium, downloads a statement PDF, marks it paid,
and the ledger's hash chain still verifies."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from accounts.services import create_workspace
from attribution.inbox import IncomingEvent, accept_events
from attribution.models import Commission
from attribution.processing import process_pending
from attribution.services import approve_commissions
from partners.services import ensure_default_program
from reporting.payouts.models import Statement
from tests.partners.factories import PartnerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"
SLUG = "acme-rockets"
SALES = ("100.00", "250.00")  # the default reward rule pays 20%: 20.00 + 50.00
EXPECTED_TOTAL = Decimal("70.00")
PERIOD_END = "2026-10-31"


def _event(kind: str, event_id: str, **fields) -> IncomingEvent:
    return IncomingEvent(
        kind=kind,
        event_id=event_id,
        customer_external_id="cus_e2e",
        occurred_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
        **fields,
    )


@pytest.fixture
def books(transactional_db):
    """A workspace with a finance user and one partner holding two approved commissions, made the way
    attribution makes them: events accepted into the inbox, processed, then approved."""
    workspace = create_workspace(
        slug=SLUG, name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD
    ).workspace
    program = ensure_default_program(workspace=workspace)
    finance = User.objects.create_user(email="finance@acme.test", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=finance, role=Role.FINANCE)
    partner = PartnerFactory(workspace=workspace, program=program, name="Paula Picks", email="paula@partner.test")

    events = [_event("lead", "lead-1", partner_id=partner.pk)]
    events += [_event("sale", f"sale-{n}", amount=Decimal(amount), currency="USD") for n, amount in enumerate(SALES)]
    accept_events(workspace=workspace, events=events, source="api")
    process_pending(workspace=workspace)
    pending = list(Commission.objects.for_workspace(workspace).values_list("pk", flat=True))
    assert len(pending) == len(SALES)
    approve_commissions(workspace=workspace, ids=pending, by=None)
    approved = Commission.objects.for_workspace(workspace).filter(status=Commission.Status.APPROVED)
    assert sum(c.amount for c in approved) == EXPECTED_TOTAL
    return workspace


def _pdf_text(data: bytes) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
        ).stdout.decode()
    from pypdf import PdfReader  # pragma: no cover - only where poppler is missing

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _statement_state(workspace_slug: str) -> list[tuple[str, Decimal]]:
    return [(s.status, s.total) for s in Statement.objects.filter(workspace__slug=workspace_slug)]


def test_finance_closes_a_period_downloads_the_statement_and_marks_it_paid(
    books, browser, live_server, screenshot_dir, off_loop, tmp_path
):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()

    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("finance@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/w/{SLUG}/$"))

    # Close a period that covers the commissions.
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Payouts").click()
    expect(page.get_by_role("heading", name="Payouts", level=1)).to_be_visible()
    page.get_by_label("Period ends on").fill(PERIOD_END)
    # The preview comes first: who is paid, carried over or blocked, before anything is issued.
    page.get_by_role("button", name="Preview who gets paid").click()
    expect(page.get_by_text("Paula Picks").first).to_be_visible()
    page.screenshot(path=screenshot_dir / "payout-preview-1280.png", full_page=True)
    page.get_by_role("button", name=re.compile(r"^Close period and issue 1 statement$")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Period up to 31 Oct 2026"), level=1)).to_be_visible()
    # `.first`: the period page currently shows its flash message twice (base layout and #statements partial).
    expect(page.get_by_text(re.compile(r"^Period closed: 1 statements? issued")).first).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Paula Picks")
    expect(row).to_contain_text("70.00 USD")
    expect(row).to_contain_text("Issued")
    page.screenshot(path=screenshot_dir / "payout-period-1280.png", full_page=True)

    # Open the statement and download its PDF.
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Statement"), level=1)).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert "Paula Picks" in text
    assert re.search(r"Total payable\s+70\.00 USD", text), text
    # One line per commission: the sale, then what it earned.
    assert re.search(r"\b100\.00\s+20\.00\b", text) and re.search(r"\b250\.00\s+50\.00\b", text), text

    # Mark it paid.
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text(re.compile(r"Statement \S+ marked paid\."))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    expect(page.get_by_role("button", name="Mark paid")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "statement-paid-1280.png", full_page=True)

    page.get_by_role("link", name=re.compile(r"^← Period")).click()
    expect(page.get_by_role("row").filter(has_text="Paula Picks")).to_contain_text("Paid")
    context.close()

    assert off_loop(_statement_state, SLUG) == [(Statement.Status.PAID, EXPECTED_TOTAL)]
    off_loop(call_command, "verify_ledger", stdout=io.StringIO())
