"""`/api/v1/webhook-endpoints`: registering endpoints, the secret shown once, changes and the delivery log."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from standardwebhooks import Webhook

from accounts.models import AuditLogEntry
from accounts.outbound.events import emit_event
from accounts.outbound.models import WebhookEndpoint
from tests.accounts.outbound_receiver import fresh_subscriptions, receiver  # noqa: F401 - fixtures

ALL_EVENTS = [
    "partner.created",
    "referral.created",
    "commission.created",
    "commission.approved",
    "commission.reversed",
    "statement.issued",
    "statement.paid",
]


def register(api_client: Client, **body: object):
    payload = {"url": "https://hooks.example.com/tandem", "events": ["commission.created"], **body}
    return api_client.post("/api/v1/webhook-endpoints", payload, content_type="application/json")


def test_registering_an_endpoint_answers_its_id_and_a_whsec_secret(api_client, workspace):
    response = register(api_client, events=ALL_EVENTS)

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("ep_")
    assert body["url"] == "https://hooks.example.com/tandem"
    assert body["events"] == ALL_EVENTS
    assert body["enabled"] is True
    assert body["created_at"]
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) >= 24
    Webhook(body["secret"])  # the library reads it


def test_the_secret_is_never_shown_again(api_client):
    endpoint_id = register(api_client).json()["id"]

    one = api_client.get(f"/api/v1/webhook-endpoints/{endpoint_id}").json()
    listed = api_client.get("/api/v1/webhook-endpoints").json()["items"]

    assert "secret" not in one
    assert all("secret" not in item for item in listed)


def test_an_unknown_event_is_refused_naming_the_field(api_client, workspace):
    response = register(api_client, events=["commission.created", "sale.exploded"])

    assert response.status_code == 422
    assert "sale.exploded" in response.json()["error"]["message"]
    assert "events" in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_no_events_is_refused(api_client):
    response = register(api_client, events=[])

    assert response.status_code == 422
    assert "events" in response.json()["error"]["fields"]


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/x", "javascript:alert(1)", "hooks.example.com", ""])
def test_a_url_that_is_not_http_is_refused(api_client, url):
    response = register(api_client, url=url)

    assert response.status_code == 422
    assert "url" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hook", "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/"]
)
def test_a_private_address_is_refused_at_registration(api_client, url):
    response = register(api_client, url=url)

    assert response.status_code == 422
    assert "Tandem does not send webhooks to" in response.json()["error"]["fields"]["url"][0]


def test_lists_only_this_workspaces_endpoints_in_pages(api_client, workspace, other_workspace):
    for n in range(3):
        register(api_client, url=f"https://hooks.example.com/{n}")
    WebhookEndpoint.objects.create(
        workspace=other_workspace, url="https://globex.example/", events=[], secret_sealed="x"
    )

    first = api_client.get("/api/v1/webhook-endpoints", {"limit": 2}).json()
    second = api_client.get("/api/v1/webhook-endpoints", {"limit": 2, "cursor": first["next"]}).json()

    urls = [item["url"] for item in first["items"] + second["items"]]
    assert sorted(urls) == [f"https://hooks.example.com/{n}" for n in range(3)]
    assert second["next"] is None


def test_another_workspaces_endpoint_is_not_found(api_client, other_workspace):
    foreign = WebhookEndpoint.objects.create(
        workspace=other_workspace, url="https://globex.example/", events=[], secret_sealed="x"
    )

    assert api_client.get(f"/api/v1/webhook-endpoints/{foreign.id}").status_code == 404
    assert api_client.delete(f"/api/v1/webhook-endpoints/{foreign.id}").status_code == 404
    assert api_client.get(f"/api/v1/webhook-endpoints/{foreign.id}/deliveries").status_code == 404
    assert WebhookEndpoint.objects.filter(id=foreign.id).exists()


def test_patch_changes_events_and_turns_an_endpoint_off(api_client, workspace):
    endpoint_id = register(api_client).json()["id"]

    response = api_client.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}",
        {"events": ["statement.paid"], "enabled": False},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["events"] == ["statement.paid"]
    assert response.json()["enabled"] is False
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="webhook_endpoint.changed").exists()


def test_patch_refuses_an_unknown_event(api_client):
    endpoint_id = register(api_client).json()["id"]

    response = api_client.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}", {"events": ["nope"]}, content_type="application/json"
    )

    assert response.status_code == 422
    assert "events" in response.json()["error"]["fields"]


def test_delete_removes_the_endpoint(api_client, workspace):
    endpoint_id = register(api_client).json()["id"]

    assert api_client.delete(f"/api/v1/webhook-endpoints/{endpoint_id}").status_code == 204
    assert api_client.get(f"/api/v1/webhook-endpoints/{endpoint_id}").status_code == 404
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="webhook_endpoint.deleted").exists()


def test_the_delivery_log_shows_what_was_sent(api_client, workspace):
    endpoint_id = register(api_client).json()["id"]
    emit_event(workspace, "commission.created", {"id": 7, "amount": "12.50", "currency": "EUR"})

    body = api_client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries").json()

    [delivery] = body["items"]
    assert delivery["id"].startswith("msg_")
    assert delivery["event_type"] == "commission.created"
    assert delivery["status"] == "pending"
    assert delivery["payload"]["type"] == "commission.created"
    assert delivery["payload"]["data"] == {"id": 7, "amount": "12.50", "currency": "EUR"}


def test_registering_is_audited(api_client, workspace):
    register(api_client)

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="webhook_endpoint.created")
    assert entry.actor_label.startswith("API key")
