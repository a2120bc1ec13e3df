"""Erasing a referred customer: no page, export, API answer or stored row shows their email or name
afterwards; the money and the ledger stay as they were."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test import Client

from accounts.models import AuditLogEntry
from accounts.services import record_audit
from attribution.inbox import accept_events
from attribution.integrations.models import CsvImport
from attribution.models import Commission, InboundEvent, LedgerEntry
from attribution.processing import process_pending
from referrals.models import Referral
from tests.attribution.conftest import anna, click_of, lead, program, sale  # noqa: F401 - fixtures
from tests.attribution.factories import RewardRuleFactory
from tests.referrals.factories import DealRegistrationFactory

EMAIL = "Jane.Doe+shop@Customer.test"
NAME = "Jane Doe"
CUSTOMER = "cus_jane"


@pytest.fixture
def jane(workspace, program, anna, owner):
    """A customer Anna referred, who bought once: her email and name are in the referral, the raw
    payload of her sale, a deal registration, an audit entry and an uploaded CSV."""
    RewardRuleFactory(workspace=workspace, program=program, sale_value=Decimal("10"))
    click = click_of(anna)
    accept_events(
        workspace=workspace,
        events=[
            lead("lead-jane", CUSTOMER, click_id=click.click_id, customer_email=EMAIL.lower()),
            sale(
                "sale-jane",
                CUSTOMER,
                amount="250.00",
                raw={"customer_details": {"email": EMAIL, "name": NAME, "address": {"city": "Lyon"}}, "id": "cs_1"},
            ),
        ],
        source="api",
    )
    process_pending(workspace=workspace)
    referral = Referral.objects.get(workspace=workspace, customer_external_id=CUSTOMER)
    deal = DealRegistrationFactory(
        workspace=workspace, partner=anna, contact_email=EMAIL.lower(), contact_name=NAME, company="Customer SA"
    )
    Referral.objects.filter(pk=referral.pk).update(customer_name=NAME, deal_registration=None)
    record_audit(
        workspace=workspace, actor=owner, action="referral.renamed", target=referral,
        changes={"customer_name": NAME, "customer_email": EMAIL.lower()},
    )  # fmt: skip
    upload = CsvImport(workspace=workspace, kind="sales", original_name="sales.csv", file_sha256="a" * 64)
    upload.file.save("sales.csv", ContentFile(f"customer,email,amount\n{CUSTOMER},{EMAIL},250.00\nbob,bob@x.test,5\n"))
    return {"referral": referral, "deal": deal, "upload": upload}


def _rows_mentioning(text: str) -> list[str]:
    """Every table of the database whose rows, as text, contain `text` (any case)."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE %s', [f"%{text}%"])
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def test_erasing_answers_the_customer_and_when(api_client, jane):
    response = api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer_external_id"] == CUSTOMER and body["status"] == "erased" and body["erased_at"]


def test_erasing_twice_answers_the_same(api_client, jane):
    first = api_client.post(f"/api/v1/customers/{CUSTOMER}/erase").json()
    second = api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    assert second.status_code == 200
    assert second.json() == first
    assert AuditLogEntry.objects.filter(action="customer.erased").count() == 1


def test_an_unknown_customer_is_a_json_404(api_client, jane):
    response = api_client.post("/api/v1/customers/nobody/erase")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_workspaces_customer_is_a_404(api_client, other_workspace):
    from tests.referrals.factories import ReferralFactory

    ReferralFactory(workspace=other_workspace, customer_external_id="theirs")

    assert api_client.post("/api/v1/customers/theirs/erase").status_code == 404


def test_no_stored_row_keeps_the_email_or_the_name(api_client, jane):
    assert _rows_mentioning("jane.doe")  # the test is able to find it before

    api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    assert _rows_mentioning("jane.doe") == []
    assert _rows_mentioning(NAME) == []
    jane["upload"].file.open("rb")
    content = jane["upload"].file.read().decode()
    assert "jane.doe" not in content.lower() and "bob@x.test" in content
    event = InboundEvent.objects.get(event_id="sale-jane")
    assert event.payload["raw"]["customer_details"]["address"] == {}
    assert event.payload["raw"]["id"] == "cs_1"


def test_pages_exports_and_api_answers_no_longer_show_the_email(api_client, jane, owner_client, workspace):
    api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    slug = workspace.slug
    commission = Commission.objects.get(workspace=workspace)
    pages = [
        f"/w/{slug}/referrals/",
        f"/w/{slug}/events/",
        f"/w/{slug}/commissions/",
        f"/w/{slug}/commissions/{commission.pk}/",
        f"/w/{slug}/deals/",
        f"/w/{slug}/deals/{jane['deal'].pk}/",
        f"/w/{slug}/audit/",
        f"/w/{slug}/settings/privacy/?customer={CUSTOMER}",
    ]
    for page in pages:
        response = owner_client.get(page)
        assert response.status_code == 200, page
        assert "jane.doe" not in response.content.decode().lower(), page
        assert NAME not in response.content.decode(), page
    for path in ("/api/v1/commissions", "/api/v1/events/sale-jane", "/api/v1/events/lead-jane"):
        response = api_client.get(path)
        assert "jane.doe" not in response.content.decode().lower(), path
    export = api_client.get(f"/api/v1/customers/{CUSTOMER}/export")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        for name in archive.namelist():
            assert "jane.doe" not in archive.read(name).decode().lower(), name


def test_amounts_commissions_and_the_ledger_are_untouched(api_client, jane, workspace):
    before = list(Commission.objects.filter(workspace=workspace).values_list("amount", "status", "currency"))
    entries = LedgerEntry.objects.filter(workspace=workspace).count()

    api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    assert list(Commission.objects.filter(workspace=workspace).values_list("amount", "status", "currency")) == before
    assert before == [(Decimal("25.00"), "pending", "USD")]
    assert LedgerEntry.objects.filter(workspace=workspace).count() == entries
    call_command("verify_ledger", "--workspace", workspace.slug)  # raises on a broken chain


def test_later_sales_of_the_customer_still_go_to_the_partner(api_client, jane, workspace, anna):
    api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    accept_events(workspace=workspace, events=[sale("sale-jane-2", CUSTOMER, amount="100.00")], source="api")
    process_pending(workspace=workspace)

    assert Commission.objects.filter(workspace=workspace, partner=anna).count() == 2


def test_the_erasure_is_audited_without_the_email(api_client, jane, workspace):
    api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    entry = AuditLogEntry.objects.get(workspace=workspace, action="customer.erased")
    assert entry.changes["customer"] == CUSTOMER
    assert "jane" not in str(entry.changes).lower() or CUSTOMER in str(entry.changes)
    assert entry.actor_label.startswith("API key")


def test_a_customer_whose_id_is_their_email_loses_the_id_too(api_client, workspace, program, anna):
    click = click_of(anna)
    accept_events(
        workspace=workspace, events=[lead("lead-mail", "joe@mail.test", click_id=click.click_id)], source="api"
    )
    process_pending(workspace=workspace)

    response = api_client.post("/api/v1/customers/joe@mail.test/erase")

    assert response.status_code == 200
    assert _rows_mentioning("joe@mail.test") == []
    assert api_client.post("/api/v1/customers/joe@mail.test/erase").json() == response.json()


def test_a_manager_erases_from_the_privacy_page_after_confirming(manager_client, jane, workspace):
    url = f"/w/{workspace.slug}/settings/privacy/"
    page = manager_client.get(url, {"customer": CUSTOMER})
    assert b"Erase personal details" in page.content

    unconfirmed = manager_client.post(url, {"customer": CUSTOMER})
    assert b"Tick the box to confirm" in unconfirmed.content
    assert not AuditLogEntry.objects.filter(action="customer.erased").exists()

    manager_client.post(url, {"customer": CUSTOMER, "confirm": "on"})
    assert AuditLogEntry.objects.filter(workspace=workspace, action="customer.erased").exists()
    assert _rows_mentioning("jane.doe") == []


def test_viewers_and_finance_cannot_erase(viewer_client, finance_client, jane, workspace):
    url = f"/w/{workspace.slug}/settings/privacy/"
    for client in (viewer_client, finance_client):
        assert client.post(url, {"customer": CUSTOMER, "confirm": "on"}).status_code == 403
    assert not AuditLogEntry.objects.filter(action="customer.erased").exists()


def test_outsiders_get_a_404(outsider_client, jane, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/settings/privacy/").status_code == 404


def test_a_program_named_like_the_customer_keeps_its_name(api_client, jane, program, workspace):
    from partners.models import Program

    Program.objects.filter(pk=program.pk).update(name=NAME)

    api_client.post(f"/api/v1/customers/{CUSTOMER}/erase")

    assert Program.objects.get(pk=program.pk).name == NAME
    assert Referral.objects.get(pk=jane["referral"].pk).customer_name.startswith("erased-")


def test_a_kept_statement_pdf_is_rendered_again_without_the_customer(api_client, workspace):
    from pypdf import PdfReader

    from tests.partners.factories import PartnerFactory
    from tests.reporting.payout_helpers import earn

    commission = earn(PartnerFactory(workspace=workspace, name="Alpha Agency"), "20.00")
    Referral.objects.filter(pk=commission.referral_id).update(customer_external_id="pdfbuyer@mail.test")
    period = api_client.post("/api/v1/payout-periods", {"end": "2026-09-30"}, content_type="application/json")
    statement_id = period.json()["statements"][0]["id"]

    def pdf_text() -> str:
        pdf = api_client.get(f"/api/v1/statements/{statement_id}/pdf").content
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)

    email = Referral.objects.get(pk=commission.referral_id).customer_email
    assert email.split("@")[1] in pdf_text()  # rendered (the partner's copy hides all but the domain) and kept

    api_client.post("/api/v1/customers/pdfbuyer@mail.test/erase")

    text = pdf_text()
    assert email.split("@")[1] not in text and "erased.invalid" in text
    assert api_client.get(f"/api/v1/statements/{statement_id}").json()["total"] == "20.00"
