"""The webhook pages: owners and managers add endpoints (secret shown once), pick events, turn them off and
on, read the delivery log and resend; other roles may not, and another workspace's endpoint is a 404."""

from __future__ import annotations

import pytest

from accounts.models import AuditLogEntry
from accounts.outbound import services
from accounts.outbound.events import emit_event
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.outbound_receiver import fresh_subscriptions  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def page(workspace, suffix: str = "") -> str:
    return f"/w/{workspace.slug}/settings/webhooks/{suffix}"


def make_endpoint(workspace, events=("commission.created",)) -> WebhookEndpoint:
    return services.create_endpoint(
        workspace=workspace, url="https://hooks.example.com/tandem", events=list(events), by=None
    )


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(manager_client, workspace):
    response = manager_client.post(
        page(workspace),
        {"url": "https://hooks.example.com/tandem", "events": ["partner.created", "statement.paid"]},
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get()
    assert endpoint.events == ["partner.created", "statement.paid"]
    assert endpoint.signing_secret in response.content.decode()
    assert "Copy" in response.content.decode()
    assert endpoint.signing_secret not in manager_client.get(page(workspace)).content.decode()


def test_the_form_says_what_is_wrong_with_a_private_url(manager_client, workspace):
    response = manager_client.post(page(workspace), {"url": "http://10.0.0.1/hook", "events": ["partner.created"]})

    assert response.status_code == 422
    assert "private network address" in response.content.decode()
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_the_form_asks_for_at_least_one_event(manager_client, workspace):
    response = manager_client.post(page(workspace), {"url": "https://hooks.example.com/"})

    assert response.status_code == 422
    assert "Pick at least one event." in response.content.decode()


def test_the_list_shows_endpoints_and_whether_they_send(owner_client, workspace):
    make_endpoint(workspace)
    off = make_endpoint(workspace)
    services.update_endpoint(endpoint=off, by=None, enabled=False)

    body = owner_client.get(page(workspace)).content.decode()

    assert "https://hooks.example.com/tandem" in body
    assert "Sending" in body and "Off" in body


def test_the_delivery_log_shows_request_answer_attempts_and_next_try(manager_client, workspace):
    endpoint = make_endpoint(workspace)
    emit_event(workspace, "commission.created", {"id": 41, "amount": "10.00", "currency": "EUR"})
    WebhookDelivery.objects.for_workspace(workspace).update(
        attempts=2, response_status=500, response_body="upstream exploded"
    )

    body = manager_client.get(page(workspace, f"{endpoint.id}/")).content.decode()

    assert "commission.created" in body
    assert "&quot;amount&quot;: &quot;10.00&quot;" in body
    assert "HTTP 500" in body and "upstream exploded" in body
    assert "Retrying" in body
    assert "Resend" in body


def test_an_endpoint_turned_off_by_a_410_says_so(manager_client, workspace):
    endpoint = make_endpoint(workspace)
    WebhookEndpoint.objects.filter(id=endpoint.id).update(enabled=False, disabled_reason="Answered 410 Gone on 1 Dec")

    body = manager_client.get(page(workspace, f"{endpoint.id}/")).content.decode()

    assert "Answered 410 Gone" in body
    assert "Turn on" in body


def test_turning_off_and_on_is_audited(manager_client, workspace):
    endpoint = make_endpoint(workspace)

    manager_client.post(page(workspace, f"{endpoint.id}/toggle/"))
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    manager_client.post(page(workspace, f"{endpoint.id}/toggle/"))

    endpoint.refresh_from_db()
    assert endpoint.enabled is True
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="webhook_endpoint.changed").count() == 2


def test_events_are_picked_by_checkboxes(manager_client, workspace):
    endpoint = make_endpoint(workspace)

    response = manager_client.post(page(workspace, f"{endpoint.id}/"), {"events": ["statement.issued"]})

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["statement.issued"]


def test_resend_queues_the_delivery_again(manager_client, workspace):
    endpoint = make_endpoint(workspace)
    emit_event(workspace, "commission.created", {"id": 1})
    delivery = WebhookDelivery.objects.for_workspace(workspace).get()
    WebhookDelivery.objects.filter(id=delivery.id).update(status="failed", attempts=8, next_attempt_at=None)

    response = manager_client.post(page(workspace, f"{endpoint.id}/deliveries/{delivery.id}/resend/"))

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0 and delivery.next_attempt_at
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="webhook_delivery.resent").exists()


def test_removing_an_endpoint_removes_its_log(manager_client, workspace):
    endpoint = make_endpoint(workspace)
    emit_event(workspace, "commission.created", {"id": 1})

    manager_client.post(page(workspace, f"{endpoint.id}/remove/"))

    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()
    assert not WebhookDelivery.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize("persona", ["finance_client", "viewer_client"])
def test_finance_and_viewers_may_not_manage_webhooks(request, workspace, persona):
    client = request.getfixturevalue(persona)

    assert client.get(page(workspace)).status_code == 403


def test_another_workspaces_endpoint_id_is_not_found_in_this_workspace(manager_client, workspace, other_workspace):
    foreign = make_endpoint(other_workspace)

    assert manager_client.get(page(workspace, f"{foreign.id}/")).status_code == 404
    assert manager_client.post(page(workspace, f"{foreign.id}/toggle/")).status_code == 404


def test_an_outsider_gets_404_for_this_workspaces_endpoint(outsider_client, workspace):
    endpoint = make_endpoint(workspace)

    assert outsider_client.get(page(workspace, f"{endpoint.id}/")).status_code == 404
    assert outsider_client.post(page(workspace, f"{endpoint.id}/remove/")).status_code == 404
    assert WebhookEndpoint.objects.filter(id=endpoint.id).exists()
