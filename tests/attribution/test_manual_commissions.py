"""A manager gives a partner a bonus: by API and from the commissions page; it lives like any commission."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import AuditLogEntry
from attribution.models import Commission, LedgerEntry
from attribution.services import approve_commissions
from tests.attribution.conftest import sale, send

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers)


def bonus_body(partner, **fields):
    return {"partner_id": partner.pk, "amount": "50.00", "currency": "USD", "description": "Webinar co-host"} | fields


def test_the_api_adds_a_bonus_and_answers_it_like_the_commission_list(api_client, anna):
    response = post(api_client, "/commissions", bonus_body(anna))
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"], body["amount"], body["description"]) == (
        "manual",
        "pending",
        "50.00",
        "Webinar co-host",
    )
    listed = api_client.get("/api/v1/commissions", {"partner_id": anna.pk}).json()["items"]
    assert listed == [body]


def test_a_bonus_posts_a_ledger_entry_and_the_chain_still_verifies(api_client, workspace, anna):
    send(workspace, sale("s1", "cus_1", partner_id=anna.pk))
    post(api_client, "/commissions", bonus_body(anna))
    entry = LedgerEntry.objects.for_workspace(workspace).order_by("-sequence").first()
    assert (entry.amount, entry.memo) == (Decimal("50.0000"), "Bonus from Acme: Webinar co-host")
    call_command("verify_ledger", "--workspace", workspace.slug)  # exits non-zero on a broken chain


def test_the_same_idempotency_key_twice_is_one_bonus(api_client, workspace, anna):
    first = post(api_client, "/commissions", bonus_body(anna), **{"Idempotency-Key": "bonus-1"})
    again = post(api_client, "/commissions", bonus_body(anna), **{"Idempotency-Key": "bonus-1"})
    assert again.json()["id"] == first.json()["id"]
    assert Commission.objects.for_workspace(workspace).count() == 1


def test_a_bonus_with_too_many_decimals_is_refused_naming_the_amount(api_client, anna):
    response = post(api_client, "/commissions", bonus_body(anna, amount="10.005"))
    assert response.status_code == 422
    assert "amount" in response.json()["error"]["fields"]


def test_a_bonus_for_another_workspaces_partner_is_refused(api_client, other_workspace):
    from tests.partners.factories import PartnerFactory

    theirs = PartnerFactory(workspace=other_workspace)
    response = post(api_client, "/commissions", bonus_body(theirs))
    assert response.status_code == 422
    assert "partner_id" in response.json()["error"]["fields"]


def test_a_bonus_is_audited(api_client, workspace, anna):
    post(api_client, "/commissions", bonus_body(anna))
    entry = AuditLogEntry.objects.filter(workspace=workspace, action="commission.manual_added").get()
    assert entry.changes["description"] == "Webinar co-host"


def test_a_bonus_is_due_at_once_and_approved_with_the_others(api_client, workspace, anna):
    commission_id = post(api_client, "/commissions", bonus_body(anna)).json()["id"]
    assert approve_commissions(workspace=workspace, due=True, by=None) == [commission_id]
