"""A lead sent over the API the moment after its click, before any flusher ran, is credited by a real worker.

As in test_celery_worker.py the worker is a separate process on the test database (so the test uses
`transactional_db`). It consumes the default queue, because the worker itself enqueues the retry of
the waiting lead; no beat runs, so only the worker's own flush after the wait can store the click.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from attribution.models import Commission, InboundEvent
from referrals.models import Click
from tests.integration.test_celery_worker import (
    BASE_DIR,
    WORKER_START_TIMEOUT,
    _wait_for,
    database_url_of_test_database,
)
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import LinkFactory

pytestmark = pytest.mark.integration

DEFAULT_QUEUE = "celery"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def worker(transactional_db, tmp_path) -> Iterator[None]:
    env = {
        **os.environ,
        "DJANGO_ENV": settings.DJANGO_ENV,
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                DEFAULT_QUEUE,
                "--hostname",
                f"click-race-{uuid.uuid4().hex[:8]}@%h",
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
            _wait_for(lambda: "ready." in log_path.read_text() or process.poll() is not None, WORKER_START_TIMEOUT)
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited with {process.returncode}:\n{log_path.read_text()}")
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            print(log_path.read_text())  # pytest shows it when the test fails


def test_a_lead_sent_right_after_its_click_earns_the_partner_a_commission(worker, workspace, api_client):
    partner = PartnerFactory(workspace=workspace)
    link = LinkFactory(
        workspace=workspace,
        partner=partner,
        program=partner.program,
        code=f"race-{uuid.uuid4().hex[:6]}",
        destination_url="https://shop.example.com/",
    )
    visit = Client().get(f"/r/{link.code}", REMOTE_ADDR="203.0.113.20", HTTP_USER_AGENT=BROWSER)
    tclid = parse_qs(urlsplit(visit["Location"]).query)["tclid"][0]
    assert not Click.objects.filter(click_id=tclid).exists()  # still in the buffer

    for path, body in (
        ("lead", {"customer_external_id": "cus_race", "click_id": tclid, "event_id": "lead_race"}),
        ("sale", {"customer_external_id": "cus_race", "event_id": "sale_race", "amount": "250.00", "currency": "USD"}),
    ):
        response = api_client.post(f"/api/v1/track/{path}", json.dumps(body), content_type="application/json")
        assert response.status_code == 202, response.content

    assert _wait_for(lambda: Commission.objects.for_workspace(workspace).exists(), 60), list(
        InboundEvent.objects.for_workspace(workspace).values_list("event_id", "status", "reason")
    )
    commission = Commission.objects.for_workspace(workspace).get()
    assert (commission.partner_id, commission.amount) == (partner.pk, Decimal("50.00"))
    assert InboundEvent.objects.for_workspace(workspace).get(event_id="lead_race").status == "attributed"
