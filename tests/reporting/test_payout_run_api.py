"""/api/v1/payout-runs: prepare a run, execute it, confirm file payments, the SEPA file and the PayPal batch."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sepaxml
import xmlschema

from reporting.payouts.models import Payout, Statement
from reporting.payouts.runs.models import PayoutRun, SepaDebtor
from tests.reporting.payout_run_support import BIC_DE, IBAN_DE, PERIOD_END, build_world

pytestmark = pytest.mark.django_db
SCHEMA = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _post(client, path, body=None):
    return client.post(path, body or {}, content_type="application/json")


@pytest.fixture
def world(workspace):
    return build_world(workspace)


@pytest.fixture
def executed(world, api_client):
    SepaDebtor.objects.create(
        workspace=world.workspace, name="Acme Payouts GmbH", iban="DE02120300000000202051", bic="BYLADEM1001"
    )
    run_id = _post(api_client, "/api/v1/payout-runs", {"period": PERIOD_END}).json()["id"]
    assert _post(api_client, f"/api/v1/payout-runs/{run_id}/execute").status_code == 200
    return run_id


def test_a_run_for_a_period_answers_each_statement_with_method_and_status(world, api_client):
    response = _post(api_client, "/api/v1/payout-runs", {"period": PERIOD_END})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    items = {i["partner_id"]: i for i in body["items"]}
    alpha = items[world.partners["stripe_a"].pk]
    assert alpha == {
        "statement_id": world.statements["stripe_a"].pk,
        "partner_id": world.partners["stripe_a"].pk,
        "amount": "120.50",
        "currency": "USD",
        "method": "stripe_connect",
        "status": "pending",
        "blocked_reason": None,
        "reference": None,
        "error": None,
    }
    assert items[world.partners["none"].pk]["status"] == "blocked"
    assert "No payout method" in items[world.partners["none"].pk]["blocked_reason"]


def test_a_run_takes_the_period_by_its_id_too(world, api_client):
    response = _post(api_client, "/api/v1/payout-runs", {"period": str(world.period.pk)})
    assert response.status_code == 201 and len(response.json()["items"]) == 5


def test_a_run_of_chosen_statements_holds_only_those(world, api_client):
    chosen = [world.statements["sepa"].pk, world.statements["paypal"].pk]
    body = _post(api_client, "/api/v1/payout-runs", {"statement_ids": chosen}).json()
    assert sorted(i["statement_id"] for i in body["items"]) == sorted(chosen)


def test_a_paid_statement_cannot_go_in_a_run(world, api_client):
    Statement.objects.filter(pk=world.statements["sepa"].pk).update(status="paid")
    response = _post(api_client, "/api/v1/payout-runs", {"statement_ids": [world.statements["sepa"].pk]})
    assert response.status_code == 422
    assert "Already paid" in response.json()["error"]["fields"]["statement_ids"][0]


def test_a_run_needs_a_period_or_statements(world, api_client):
    response = _post(api_client, "/api/v1/payout-runs", {})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"period", "statement_ids"}


def test_an_unknown_period_is_named_as_the_field_at_fault(world, api_client):
    response = _post(api_client, "/api/v1/payout-runs", {"period": "2020-01-31"})
    assert response.status_code == 422 and "period" in response.json()["error"]["fields"]


def test_another_workspaces_run_is_not_found(world, api_client, other_workspace):
    from django.utils import timezone

    run = PayoutRun.objects.create(workspace=other_workspace, created_at=timezone.now())
    assert api_client.get(f"/api/v1/payout-runs/{run.id}").status_code == 404
    assert _post(api_client, f"/api/v1/payout-runs/{run.id}/execute").status_code == 404


def test_executing_puts_file_payments_waiting_for_confirmation(executed, world, api_client):
    body = api_client.get(f"/api/v1/payout-runs/{executed}").json()
    statuses = {i["partner_id"]: i["status"] for i in body["items"]}
    assert statuses[world.partners["sepa"].pk] == "awaiting_confirmation"
    assert statuses[world.partners["paypal"].pk] == "awaiting_confirmation"
    assert statuses[world.partners["none"].pk] == "blocked"


def test_confirming_pays_the_statements_once(executed, world, api_client):
    sepa = world.statements["sepa"]
    body = _post(
        api_client, f"/api/v1/payout-runs/{executed}/confirm", {"statement_ids": [sepa.pk], "reference": "BANK-77"}
    ).json()
    assert {i["statement_id"]: i["status"] for i in body["items"]}[sepa.pk] == "paid"
    payout = Payout.objects.get(statement=sepa)
    assert (payout.method, payout.reference) == ("sepa", "BANK-77")
    _post(api_client, f"/api/v1/payout-runs/{executed}/confirm")
    assert Payout.objects.filter(statement=sepa).count() == 1
    assert Statement.objects.get(pk=world.statements["paypal"].pk).status == "paid"


def test_the_sepa_file_is_valid_pain_001_with_the_partners_iban_and_amount(executed, api_client):
    response = api_client.get(f"/api/v1/payout-runs/{executed}/sepa.xml")
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    xmlschema.XMLSchema(str(SCHEMA)).validate(response.content.decode())
    root = ET.fromstring(response.content)
    transactions = root.findall(".//p:CdtTrfTxInf", NS)
    assert len(transactions) == 1
    assert transactions[0].find(".//p:CdtrAcct/p:Id/p:IBAN", NS).text == IBAN_DE
    assert transactions[0].find(".//p:CdtrAgt//p:BIC", NS).text == BIC_DE
    amount = transactions[0].find(".//p:InstdAmt", NS)
    assert (amount.text, amount.get("Ccy")) == ("310.25", "EUR")
    assert root.find(".//p:DbtrAcct/p:Id/p:IBAN", NS).text == "DE02120300000000202051"


def test_the_sepa_file_without_the_workspaces_bank_account_says_what_to_set(world, api_client):
    run_id = _post(api_client, "/api/v1/payout-runs", {"period": PERIOD_END}).json()["id"]
    _post(api_client, f"/api/v1/payout-runs/{run_id}/execute")
    response = api_client.get(f"/api/v1/payout-runs/{run_id}/sepa.xml")
    assert response.status_code == 409
    assert "bank account" in response.json()["error"]["message"]


def test_the_paypal_batch_is_in_paypals_mass_payment_layout(executed, world, api_client):
    response = api_client.get(f"/api/v1/payout-runs/{executed}/paypal.csv")
    assert response.status_code == 200
    statement = world.statements["paypal"]
    assert response.content.decode().splitlines() == [
        f"delta@paypal.test,42.10,USD,tandem-statement-{statement.pk},{world.workspace.name} statement {statement.number}"
    ]


def test_the_stripe_secret_key_is_set_and_never_shown_back(world, api_client):
    response = api_client.put(
        "/api/v1/integrations/stripe", {"secret_key": "sk_test_51abcDEF0123456789"}, content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["secret_key_set"] is True and "sk_test" not in response.content.decode()
    assert api_client.get("/api/v1/integrations/stripe").json()["secret_key_set"] is True


def test_a_malformed_stripe_secret_key_is_refused_naming_the_field(world, api_client):
    response = api_client.put(
        "/api/v1/integrations/stripe", {"secret_key": "pk_test_nope"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "secret_key" in response.json()["error"]["fields"]


def test_a_statement_paid_by_hand_after_the_preview_is_left_out_of_the_bank_file(world, api_client):
    from reporting.payouts.statements import mark_statement_paid

    SepaDebtor.objects.create(workspace=world.workspace, name="Acme", iban="DE02120300000000202051", bic="BYLADEM1001")
    run_id = _post(api_client, "/api/v1/payout-runs", {"period": PERIOD_END}).json()["id"]
    mark_statement_paid(statement=world.statements["sepa"], reference="paid by hand")
    body = _post(api_client, f"/api/v1/payout-runs/{run_id}/execute").json()
    sepa = next(i for i in body["items"] if i["statement_id"] == world.statements["sepa"].pk)
    assert sepa["status"] == "cancelled" and "outside this run" in sepa["blocked_reason"]
    assert api_client.get(f"/api/v1/payout-runs/{run_id}/sepa.xml").status_code == 409
    assert Payout.objects.filter(statement=world.statements["sepa"]).count() == 1
