"""PUT/GET /api/v1/partners/{id}/payout-method: a tenant's systems set how a partner is paid."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.db import connection

from accounts.models import AuditLogEntry
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
SEPA = {"type": "sepa", "account_holder": "Paula Park", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"}


def _put(client, partner, body, **headers):
    return client.put(
        f"/api/v1/partners/{partner.pk}/payout-method", json.dumps(body), content_type="application/json", **headers
    )


def test_setting_a_sepa_method_answers_it_masked(api_client, partner):
    response = _put(api_client, partner, SEPA)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "sepa"
    assert body["iban"] == "DE89 •••• •••• 3000"
    assert body["label"] == "SEPA transfer to DE89 •••• 3000"
    assert (body["account_holder"], body["bic"]) == ("Paula Park", "COBADEFFXXX")
    assert "email" not in body and body["updated_at"]


def test_reading_the_method_answers_the_same_masked_details(api_client, partner):
    put = _put(api_client, partner, {"type": "paypal", "email": "Paula@Brightside.test"}).json()

    got = api_client.get(f"/api/v1/partners/{partner.pk}/payout-method")

    assert got.status_code == 200
    assert got.json() == put
    assert got.json()["email"] == "p•••@brightside.test"


def test_reading_a_partner_without_a_method_is_a_json_404(api_client, partner):
    response = api_client.get(f"/api/v1/partners/{partner.pk}/payout-method")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_wrong_iban_check_digit_is_a_422_naming_the_iban(api_client, partner):
    response = _put(api_client, partner, {**SEPA, "iban": "DE88370400440532013000"})

    assert response.status_code == 422
    assert "check digits" in response.json()["error"]["fields"]["iban"][0]


def test_a_missing_type_is_refused_naming_the_type(api_client, partner):
    response = _put(api_client, partner, {"email": "jo@example.com"})

    assert response.status_code == 422
    assert "type" in response.json()["error"]["fields"]


def test_a_field_of_another_method_is_refused_naming_it(api_client, partner):
    response = _put(api_client, partner, {"type": "paypal", "email": "jo@example.com", "iban": IBAN})

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["iban"]


def test_the_iban_is_never_stored_readable(api_client, partner):
    _put(api_client, partner, SEPA)

    with connection.cursor() as cursor:
        cursor.execute("SELECT type, sealed_details FROM partners_payoutmethod WHERE partner_id = %s", [partner.pk])
        method_type, sealed = cursor.fetchone()
    assert method_type == "sepa"
    assert IBAN not in sealed and "3704" not in sealed and "Paula" not in sealed


def test_a_change_is_audited_masked_and_emailed_to_the_partner(
    api_client, workspace, partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _put(api_client, partner, SEPA)

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="partner.payout_method_changed")
    assert entry.changes == {"payout_method": [None, "SEPA transfer to DE89 •••• 3000"]}
    assert IBAN not in json.dumps(entry.changes, ensure_ascii=False)
    assert entry.actor_label == "API key Test key"
    [message] = mail.outbox
    assert (message.to, message.subject) == ([partner.email], "Your payout details changed")
    assert "SEPA transfer to DE89 •••• 3000" in message.body and IBAN not in message.body
    assert "DE89 •••• 3000" in message.alternatives[0][0]


def test_sending_the_same_method_again_changes_nothing(
    api_client, workspace, partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _put(api_client, partner, SEPA)
        again = _put(api_client, partner, SEPA)

    assert again.status_code == 200
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="partner.payout_method_changed").count() == 1
    assert len(mail.outbox) == 1


def test_an_idempotency_key_replays_the_first_answer(api_client, partner):
    first = _put(api_client, partner, SEPA, HTTP_IDEMPOTENCY_KEY="pm-1")
    replay = _put(api_client, partner, SEPA, HTTP_IDEMPOTENCY_KEY="pm-1")
    conflict = _put(api_client, partner, {"type": "manual", "instructions": "Cheque"}, HTTP_IDEMPOTENCY_KEY="pm-1")

    assert replay.status_code == 200 and replay.json() == first.json()
    assert conflict.status_code == 409
    assert api_client.get(f"/api/v1/partners/{partner.pk}/payout-method").json()["type"] == "sepa"


def test_another_workspaces_partner_is_a_404(api_client, other_workspace):
    stranger = PartnerFactory(workspace=other_workspace)

    assert _put(api_client, stranger, SEPA).status_code == 404
    assert api_client.get(f"/api/v1/partners/{stranger.pk}/payout-method").status_code == 404
