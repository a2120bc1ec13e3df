"""Exports of everything Tandem holds about a customer or a partner: a zip of JSON and CSV files."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from tests.attribution.conftest import anna, click_of, lead, program, send  # noqa: F401 - fixtures
from tests.partners.factories import PartnerFactory


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


@pytest.fixture
def customer(workspace, anna):
    click = click_of(anna)
    send(workspace, lead("lead-1", "cus_export", click_id=click.click_id, customer_email="ex@customer.test"))
    return "cus_export"


def test_a_customer_export_holds_their_referral_and_events(api_client, customer):
    response = api_client.get(f"/api/v1/customers/{customer}/export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    files = unzip(response.content)
    data = json.loads(files["data.json"])
    assert data["customer_external_id"] == customer
    assert data["referrals"][0]["customer_email"] == "ex@customer.test"
    assert [row["event_id"] for row in csv.DictReader(io.StringIO(files["events.csv"]))] == ["lead-1"]
    assert {"referrals.csv", "conversions.csv", "commissions.csv", "deal_registrations.csv"} <= set(files)


def test_an_unknown_customer_export_is_a_json_404(api_client, workspace):
    response = api_client.get("/api/v1/customers/nobody/export")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_partner_export_holds_profile_links_clicks_and_referrals_without_customer_emails(api_client, anna, customer):
    response = api_client.get(f"/api/v1/partners/{anna.pk}/export")

    assert response.status_code == 200
    files = unzip(response.content)
    data = json.loads(files["data.json"])
    assert data["partner"][0]["email"] == "anna@partner.test"
    assert "payout_details" not in data["partner"][0]
    assert len(data["links"]) == 1 and len(data["clicks"]) == 1
    assert data["referrals"][0]["customer_external_id"] == customer
    assert "ex@customer.test" not in files["data.json"]  # the customer's email is theirs, not the partner's


def test_another_workspaces_partner_is_a_404(api_client, other_workspace):
    foreign = PartnerFactory(workspace=other_workspace)

    assert api_client.get(f"/api/v1/partners/{foreign.pk}/export").status_code == 404


def test_staff_download_exports_from_the_privacy_page(manager_client, workspace, anna, customer):
    page = manager_client.get(f"/w/{workspace.slug}/settings/privacy/", {"customer": customer})
    assert b"Download everything (zip)" in page.content

    customer_zip = manager_client.get(f"/w/{workspace.slug}/settings/privacy/customer-export/", {"customer": customer})
    partner_zip = manager_client.get(f"/w/{workspace.slug}/settings/privacy/partners/{anna.pk}/export/")

    assert "data.json" in unzip(customer_zip.content)
    assert "clicks.csv" in unzip(partner_zip.content)


def test_partners_read_what_is_kept_and_for_how_long(partner_client, workspace):
    response = partner_client.get(f"/portal/{workspace.slug}/privacy/")

    assert response.status_code == 200
    assert b"25 months" in response.content


def test_an_owner_sets_the_click_retention(owner_client, workspace):
    owner_client.post(f"/w/{workspace.slug}/settings/privacy/retention/", {"months": "13"})

    workspace.refresh_from_db()
    assert workspace.settings["click_retention_months"] == 13


def test_a_manager_cannot_change_the_retention(manager_client, workspace):
    assert manager_client.post(f"/w/{workspace.slug}/settings/privacy/retention/", {"months": "1"}).status_code == 403


def test_the_privacy_page_finds_a_partner_by_name(manager_client, workspace, anna):
    PartnerFactory(workspace=workspace, program=anna.program, name="Zed", email="zed@partner.test")

    page = manager_client.get(f"/w/{workspace.slug}/settings/privacy/", {"partner": "ann"})

    assert b"anna@partner.test" in page.content and b"zed@partner.test" not in page.content
    assert b"This field is required" not in page.content
