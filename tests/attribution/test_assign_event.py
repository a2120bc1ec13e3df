"""A manager credits an unattributed lead or sale to a partner; the reward rules then pay it like any other."""

from __future__ import annotations

import json

import pytest

from accounts.models import AuditLogEntry
from attribution.models import Commission, InboundEvent
from attribution.processing import process_pending
from referrals.models import Referral
from tests.attribution.conftest import sale, send

pytestmark = pytest.mark.django_db


def assign(client, event_id, partner):
    return client.post(
        f"/api/v1/events/{event_id}/assign", json.dumps({"partner_id": partner.pk}), content_type="application/json"
    )


@pytest.fixture
def orphan_sale(workspace, anna):
    send(workspace, sale("s1", "cus_1", "50.00"))
    return InboundEvent.objects.for_workspace(workspace).get(event_id="s1")


def test_assigning_answers_the_event_sent_for_attribution_again(api_client, orphan_sale, anna):
    response = assign(api_client, "s1", anna)
    assert response.status_code == 200
    assert (response.json()["event_id"], response.json()["status"]) == ("s1", "received")


def test_an_assigned_sale_earns_the_partner_its_commission_under_the_rules(api_client, workspace, orphan_sale, anna):
    assign(api_client, "s1", anna)
    process_pending(workspace=workspace)
    body = api_client.get("/api/v1/events/s1").json()
    assert (body["status"], body["conversion"]["partner_id"]) == ("attributed", anna.pk)
    assert body["commissions"][0]["amount"] == "10.00"


def test_the_customer_becomes_the_partners_manual_referral(api_client, workspace, orphan_sale, anna):
    assign(api_client, "s1", anna)
    referral = Referral.objects.for_workspace(workspace).get(customer_external_id="cus_1")
    assert (referral.partner_id, referral.source) == (anna.pk, "manual")


def test_an_event_already_attributed_is_a_conflict(api_client, workspace, orphan_sale, anna, ben):
    assign(api_client, "s1", anna)
    process_pending(workspace=workspace)
    response = assign(api_client, "s1", ben)
    assert response.status_code == 409
    assert "not unattributed" in response.json()["error"]["message"]


def test_another_workspaces_event_cannot_be_assigned(api_client, other_workspace, anna):
    send(other_workspace, sale("theirs", "cus_1"))
    assert assign(api_client, "theirs", anna).status_code == 404


def test_assigning_is_audited(api_client, workspace, orphan_sale, anna):
    assign(api_client, "s1", anna)
    entry = AuditLogEntry.objects.filter(workspace=workspace, action="inbound_event.assigned").get()
    assert entry.changes["partner"] == anna.pk


def test_assigning_twice_credits_the_sale_once(api_client, workspace, orphan_sale, anna):
    assign(api_client, "s1", anna)
    assign(api_client, "s1", anna)  # still received: a conflict, nothing changes
    process_pending(workspace=workspace)
    assert Commission.objects.for_workspace(workspace).count() == 1


def test_a_manager_credits_an_event_from_the_events_page(manager_client, workspace, orphan_sale, anna):
    page = manager_client.get(f"/w/{workspace.slug}/events/").content.decode()
    assert f"/w/{workspace.slug}/events/{orphan_sale.pk}/assign/" in page
    manager_client.post(f"/w/{workspace.slug}/events/{orphan_sale.pk}/assign/", {"partner": anna.pk})
    process_pending(workspace=workspace)
    assert Commission.objects.for_workspace(workspace).get().partner_id == anna.pk


def test_an_outsider_gets_404_on_the_assign_page(outsider_client, workspace, orphan_sale):
    assert outsider_client.get(f"/w/{workspace.slug}/events/{orphan_sale.pk}/assign/").status_code == 404
