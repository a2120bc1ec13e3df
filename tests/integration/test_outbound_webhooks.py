"""Outbound webhooks end to end: a real Celery worker delivers to a local HTTP receiver, and every
delivery verifies with the `standardwebhooks` library; a 500 then a 200 is the retry; a 410 turns the
endpoint off. The first retry waits 0.5 s here (WEBHOOK_RETRY_DELAYS) instead of 5 s."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db import transaction
from standardwebhooks import Webhook

from accounts.outbound import services
from accounts.outbound.events import emit_event
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from accounts.outbound.tasks import sweep_webhook_deliveries
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


class Workers:
    """Celery workers on a queue of their own, with loopback allowed and short retries; the test's
    deliveries go to that queue. A worker can be killed (-9) and another started."""

    def __init__(self, settings, tmp_path) -> None:
        self.queue = f"webhooks-{uuid.uuid4().hex[:12]}"
        settings.WEBHOOK_DELIVERY_QUEUE = self.queue
        self.env = {
            **os.environ,
            "DJANGO_ENV": settings.DJANGO_ENV,
            "DATABASE_URL": database_url_of_test_database(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "WEBHOOK_ALLOW_LOOPBACK": "true",
            "WEBHOOK_RETRY_DELAYS": "0.5,1,1,1,1,1,1",
            "WEBHOOK_TIMEOUT_SECONDS": "5",
            "WEBHOOK_DELIVERY_QUEUE": self.queue,
        }
        self.tmp_path = tmp_path
        self.running: list[tuple[subprocess.Popen, Path, IO[str]]] = []

    def start(self) -> subprocess.Popen:
        log_path = self.tmp_path / f"worker-{len(self.running)}.log"
        log = open(log_path, "w+")  # the worker writes to it until it stops
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                self.queue,
                "--hostname",
                f"{self.queue}-{len(self.running)}@%h",
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
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running.append((worker, log_path, log))
        _wait_for(lambda: "ready." in log_path.read_text() or worker.poll() is not None, WORKER_START_TIMEOUT)
        if worker.poll() is not None:
            pytest.fail(f"the Celery worker exited with {worker.returncode}:\n{log_path.read_text()}")
        return worker

    def stop(self) -> None:
        for worker, log_path, log in self.running:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            log.close()
            print(log_path.read_text())  # pytest shows it when the test fails


@pytest.fixture
def workers(transactional_db, settings, tmp_path) -> Iterator[Workers]:
    pool = Workers(settings, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def webhook_worker(workers) -> str:
    workers.start()
    return workers.queue


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


def test_a_worker_killed_mid_send_is_followed_by_a_resend_with_the_same_webhook_id(workers, receiver, settings):
    """At least once: the first worker dies while the receiver is still answering; once its claim on the
    delivery lapses, the sweep (beat's, run here by hand) queues it again and a new worker sends it."""
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    first = workers.start()
    endpoint = _endpoint(receiver)
    receiver.delay = 3.0  # the answer comes after the worker is gone

    with transaction.atomic():
        emit_event(endpoint.workspace, "commission.created", {"id": 9})
    assert receiver.wait_for(1, TIMEOUT)
    first.kill()
    first.wait()
    receiver.delay = 0.0
    workers.start()
    delivery = WebhookDelivery.objects.for_workspace(endpoint.workspace).get()
    assert delivery.status == "pending" and delivery.leased_until is not None

    # The claim lasts a little over two timeouts; until then nobody sends it twice at once.
    def resent() -> bool:
        sweep_webhook_deliveries()
        return len(receiver.requests) >= 2

    assert _wait_for(resent, 90), "the delivery was not sent again"
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"] == delivery.id
    Webhook(endpoint.signing_secret).verify(receiver.requests[1].body, receiver.requests[1].headers)
    assert _wait_for(lambda: WebhookDelivery.objects.filter(id=delivery.id, status="succeeded").exists(), TIMEOUT)
