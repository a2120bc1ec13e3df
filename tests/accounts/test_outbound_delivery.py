"""Sending deliveries: signed by Standard Webhooks, retried on Svix's schedule, 410 turns the endpoint off,
at least once when a worker dies mid-send. A real HTTP receiver on 127.0.0.1 answers (loopback opted in)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import AuditLogEntry
from accounts.outbound import services
from accounts.outbound.delivery import attempt_delivery, claim, due_deliveries
from accounts.outbound.events import emit_event, emit_events
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.outbound_receiver import Receiver, fresh_subscriptions, receiver  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
SVIX = [5, 300, 1800, 7200, 18000, 36000, 36000]


def endpoint_for(workspace, url: str, events=("commission.created",)) -> WebhookEndpoint:
    return services.create_endpoint(workspace=workspace, url=url, events=list(events), by=None)


def the_delivery(workspace) -> WebhookDelivery:
    return WebhookDelivery.objects.for_workspace(workspace).get()


def send(delivery: WebhookDelivery, at: dt.datetime | None = None) -> dt.timedelta | None:
    return attempt_delivery(workspace_id=delivery.workspace_id, delivery_id=delivery.id, now=at)


def test_a_delivery_verifies_with_the_standardwebhooks_library(workspace, receiver: Receiver):
    endpoint = endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 12, "amount": "40.00", "currency": "USD"})
    delivery = the_delivery(workspace)

    send(delivery)

    [request] = receiver.requests
    payload = Webhook(endpoint.signing_secret).verify(request.body, request.headers)
    assert payload["type"] == "commission.created"
    assert payload["data"] == {"id": 12, "amount": "40.00", "currency": "USD"}
    assert payload["timestamp"].endswith("Z")
    assert request.headers["webhook-id"] == delivery.id
    assert request.path == "/hooks/tandem"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.response_status == 200 and delivery.response_body == "answered 200"


def test_a_signature_made_with_another_secret_does_not_verify(workspace, receiver: Receiver):
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    send(the_delivery(workspace))

    other = services.create_endpoint(workspace=workspace, url=receiver.url, events=["statement.paid"], by=None)
    with pytest.raises(Exception, match="signature"):
        Webhook(other.signing_secret).verify(receiver.requests[0].body, receiver.requests[0].headers)


def test_failures_retry_on_svix_schedule_then_fail(workspace, receiver: Receiver, settings):
    settings.WEBHOOK_RETRY_DELAYS = SVIX
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    delivery = the_delivery(workspace)
    receiver.answers = [500] * 8
    start = timezone.now()
    waits = []

    with time_machine.travel(start, tick=False) as clock:
        for _attempt in range(8):
            waits.append(send(delivery))
            delivery.refresh_from_db()
            if delivery.next_attempt_at:
                clock.move_to(delivery.next_attempt_at)

    assert [w.total_seconds() if w else None for w in waits] == [*SVIX, None]
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 8
    assert delivery.response_status == 500
    assert len(receiver.requests) == 8
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1


def test_a_delivery_is_not_sent_before_its_retry_is_due(workspace, receiver: Receiver):
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    delivery = the_delivery(workspace)
    receiver.answers = [503]
    send(delivery)

    assert send(delivery) is None  # a second task for the same attempt changes nothing

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == WebhookDelivery.Status.PENDING


def test_a_500_then_a_200_is_delivered_on_the_retry(workspace, receiver: Receiver):
    endpoint = endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    delivery = the_delivery(workspace)
    receiver.answers = [500, 200]

    send(delivery)
    delivery.refresh_from_db()
    send(delivery, at=delivery.next_attempt_at)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 2
    for request in receiver.requests:
        Webhook(endpoint.signing_secret).verify(request.body, request.headers)


def test_an_endpoint_answering_410_is_turned_off_and_says_why(workspace, receiver: Receiver):
    endpoint = endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    receiver.answers = [410]

    assert send(the_delivery(workspace)) is None

    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert "410" in endpoint.disabled_reason
    assert the_delivery(workspace).status == WebhookDelivery.Status.FAILED
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="webhook_endpoint.disabled").exists()
    # and it hears nothing more
    assert emit_event(workspace, "commission.created", {"id": 2}) == 0


def test_a_receiver_that_does_not_answer_in_time_is_retried(workspace, receiver: Receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    receiver.delay = 1.0

    wait = send(the_delivery(workspace))

    delivery = the_delivery(workspace)
    assert wait == dt.timedelta(seconds=5)
    assert delivery.response_status is None and "No answer within" in delivery.last_error


def test_a_worker_killed_mid_send_leaves_the_delivery_to_the_sweep(workspace, receiver: Receiver):
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    delivery = the_delivery(workspace)
    now = timezone.now()
    # The worker claimed it and died before recording an answer.
    assert claim(workspace_id=workspace.pk, delivery_id=delivery.id, now=now) is not None

    assert send(delivery, at=now + dt.timedelta(seconds=1)) is None  # still held: nobody sends twice at once
    later = now + dt.timedelta(minutes=5)
    assert (workspace.pk, delivery.id) in due_deliveries(now=later)
    send(delivery, at=later)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 2
    assert receiver.requests[0].headers["webhook-id"] == delivery.id


def test_a_delivery_never_queued_is_found_by_the_sweep(workspace, receiver: Receiver):
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    delivery = the_delivery(workspace)

    assert (workspace.pk, delivery.id) not in due_deliveries(now=timezone.now())  # its own task's turn
    assert (workspace.pk, delivery.id) in due_deliveries(now=timezone.now() + dt.timedelta(minutes=1))


def test_resend_sends_again_with_the_same_webhook_id(workspace, receiver: Receiver):
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1})
    delivery = the_delivery(workspace)
    send(delivery)

    services.resend_delivery(delivery=delivery, by=None)
    send(delivery)

    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.id, delivery.id]
    assert receiver.requests[0].body == receiver.requests[1].body


def test_events_reach_only_endpoints_that_chose_them(workspace, other_workspace, receiver: Receiver):
    endpoint_for(workspace, receiver.url, events=["statement.paid"])
    endpoint_for(other_workspace, receiver.url, events=["commission.created"])

    assert emit_event(workspace, "commission.created", {"id": 1}) == 0
    assert emit_event(workspace, "statement.paid", {"id": 1}) == 1


def test_a_workspace_without_endpoints_costs_no_query_once_cached(workspace, django_assert_num_queries):
    emit_event(workspace, "commission.created", {"id": 0})  # fills the cache

    with django_assert_num_queries(0):
        assert emit_events(workspace, "commission.created", [{"id": n} for n in range(1000)]) == 0


def test_a_batch_is_recorded_in_a_constant_number_of_queries(
    workspace, receiver: Receiver, django_assert_max_num_queries
):
    endpoint_for(workspace, receiver.url)
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 0})

    with django_assert_max_num_queries(3):
        assert emit_events(workspace, "commission.created", [{"id": n} for n in range(1, 501)]) == 1000


def test_the_body_is_the_same_on_every_attempt(workspace, receiver: Receiver):
    endpoint_for(workspace, receiver.url)
    emit_event(workspace, "commission.created", {"id": 1, "amount": "9.99"})
    delivery = the_delivery(workspace)
    receiver.answers = [500]

    send(delivery)
    delivery.refresh_from_db()
    send(delivery, at=delivery.next_attempt_at)

    assert receiver.requests[0].body == receiver.requests[1].body
    assert json.loads(receiver.requests[0].body)["data"]["amount"] == "9.99"
