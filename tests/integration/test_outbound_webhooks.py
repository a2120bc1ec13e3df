"""Outbound webhooks end to end: a real Celery worker delivers to a local HTTP receiver, and every
delivery verifies with the `standardwebhooks` library; a 500 then a 200 is the retry; a 410 turns the
endpoint off. The first retry waits 0.5 s here (WEBHOOK_RETRY_DELAYS) instead of 5 s."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import transaction
from standardwebhooks import Webhook

from accounts.outbound import services
from accounts.outbound.events import emit_event
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.factories import WorkspaceFactory
from tests.accounts.outbound_receiver import Receiver
from tests.integration.test_celery_worker import (
    BASE_DIR,
    WORKER_START_TIMEOUT,
    _wait_for,
    database_url_of_test_database,
)

pytestmark = pytest.mark.integration
TIMEOUT = 60


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_LOOPBACK = True  # as in development mode, so a receiver on 127.0.0.1 may register
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def webhook_worker(transactional_db, settings, tmp_path) -> Iterator[str]:
    """A worker on a queue of its own, with loopback allowed and short retries; deliveries go to its queue."""
    queue = f"webhooks-{uuid.uuid4().hex[:12]}"
    settings.WEBHOOK_DELIVERY_QUEUE = queue
    env = {
        **os.environ,
        "DJANGO_ENV": settings.DJANGO_ENV,
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WEBHOOK_ALLOW_LOOPBACK": "true",
        "WEBHOOK_RETRY_DELAYS": "0.5,1,1,1,1,1,1",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "WEBHOOK_DELIVERY_QUEUE": queue,
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "w+") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                queue,
                "--hostname",
                f"{queue}@%h",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(lambda: "ready." in log_path.read_text() or worker.poll() is not None, WORKER_START_TIMEOUT)
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited with {worker.returncode}:\n{log_path.read_text()}")
            yield queue
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            print(log_path.read_text())


def _endpoint(receiver: Receiver) -> WebhookEndpoint:
    workspace = WorkspaceFactory()
    return services.create_endpoint(
        workspace=workspace, url=receiver.url, events=["commission.created", "statement.paid"], by=None
    )


def test_a_500_then_a_200_is_delivered_on_the_retry_and_verifies(webhook_worker, receiver):
    endpoint = _endpoint(receiver)
    receiver.answers = [500, 200]

    with transaction.atomic():
        emit_event(endpoint.workspace, "commission.created", {"id": 7, "amount": "12.50", "currency": "EUR"})

    assert receiver.wait_for(2, TIMEOUT), f"{len(receiver.requests)} request(s) arrived"
    payloads = [Webhook(endpoint.signing_secret).verify(r.body, r.headers) for r in receiver.requests]
    assert [p["data"] for p in payloads] == [{"id": 7, "amount": "12.50", "currency": "EUR"}] * 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    delivery = WebhookDelivery.objects.for_workspace(endpoint.workspace).get()
    assert _wait_for(lambda: WebhookDelivery.objects.filter(id=delivery.id, status="succeeded").exists(), TIMEOUT)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.response_status == 200


def test_an_endpoint_answering_410_is_turned_off(webhook_worker, receiver):
    endpoint = _endpoint(receiver)
    receiver.answers = [410]

    with transaction.atomic():
        emit_event(endpoint.workspace, "statement.paid", {"id": 3, "total": "40.00", "currency": "USD"})

    assert _wait_for(lambda: WebhookEndpoint.objects.filter(id=endpoint.id, enabled=False).exists(), TIMEOUT)
    endpoint.refresh_from_db()
    assert "410" in endpoint.disabled_reason
    assert len(receiver.requests) == 1
    Webhook(endpoint.signing_secret).verify(receiver.requests[0].body, receiver.requests[0].headers)


def test_nothing_is_sent_for_a_transaction_that_rolls_back(webhook_worker, receiver):
    endpoint = _endpoint(receiver)

    with pytest.raises(RuntimeError), transaction.atomic():
        emit_event(endpoint.workspace, "commission.created", {"id": 1})
        raise RuntimeError("the sale failed")

    assert not receiver.wait_for(1, 3)
    assert not WebhookDelivery.objects.for_workspace(endpoint.workspace).exists()
