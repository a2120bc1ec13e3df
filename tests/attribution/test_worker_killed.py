"""A real Celery worker SIGKILLed in the middle of a set: nothing half-written, and after a restart and a
sweep every event is processed exactly once.

The kill lands at a known point: the worker runs with a fault hook (attribution.processing.faults)
that, once the test asks for it, holds the next set right after its sales are recorded (conversions
written, commissions and ledger entries not yet), inside its transaction, until it is killed.

Like tests/integration/test_celery_worker.py, the worker is a separate process on a queue of its
own, pointed at pytest-django's test database, so the test uses `transactional_db`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Workspace
from attribution import tasks
from attribution.inbox import IncomingEvent, accept_events
from attribution.ledger import verify_chain
from attribution.models import Commission, Conversion, InboundEvent, LedgerEntry
from partners.services import ensure_default_program
from tests.integration.test_celery_worker import database_url_of_test_database
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
CUSTOMERS = 400
SALES_PER_CUSTOMER = 40  # 16,000 sales: several sets (processing.CHUNK), a few seconds of work


# The worker, with a fault hook installed before Celery forks its pool: after the step HOLD_AT of a set,
# while the file `hold` exists, it says so in `held` and waits there to be killed.
HOLD_AT = "sales_recorded"
_WORKER = """
import pathlib, sys, time
import django
django.setup()
from celery.__main__ import main
from attribution.processing import faults
hold, held = pathlib.Path(sys.argv.pop(1)), pathlib.Path(sys.argv.pop(1))
def wait_to_be_killed(state):
    if hold.exists():
        held.write_text(str(len(state.events)))
        time.sleep(600)
with faults.at(sys.argv.pop(1), wait_to_be_killed):
    main()
"""


def start_worker(queue: str, log: Path, hold: Path, held: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_ENV": settings.DJANGO_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _WORKER,
            str(hold),
            str(held),
            HOLD_AT,
            "-A",
            "config",
            "worker",
            "--queues",
            queue,
            "--hostname",
            f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            "--pool",
            "prefork",
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
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if not wait_for(lambda: "ready." in log.read_text() or worker.poll() is not None, 60) or worker.poll() is not None:
        pytest.fail(f"the Celery worker did not start:\n{log.read_text()}")
    return worker


def kill(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool child, no goodbye
    except ProcessLookupError:
        pass
    worker.wait()


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def worker_in_a_transaction() -> bool:
    """True while another connection to the test database is inside a transaction (the worker's set)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND xact_start IS NOT NULL AND state IN ('active', 'idle in transaction')"
        )
        return cursor.fetchone()[0] > 0


def pending(workspace) -> int:
    return InboundEvent.objects.for_workspace(workspace).filter(status="received").count()


@pytest.fixture
def queue(transactional_db, monkeypatch) -> Iterator[str]:
    name = f"integration-{uuid.uuid4().hex[:12]}"
    # Everything this test enqueues (accepting, waking, sweeping) goes to its own worker only.
    monkeypatch.setattr(tasks, "enqueue_processing", partial(tasks.enqueue_processing, queue=name))
    yield name


def test_a_worker_killed_mid_set_leaves_nothing_half_done_and_nothing_twice(queue, tmp_path):
    workspace = Workspace.objects.create(slug=f"kill-{uuid.uuid4().hex[:6]}", name="Kill test")
    program = ensure_default_program(workspace=workspace)
    partners = [PartnerFactory(workspace=workspace, program=program) for _ in range(5)]
    leads = [
        IncomingEvent(kind="lead", event_id=f"l{c}", customer_external_id=f"c{c}", partner_id=partners[c % 5].pk)
        for c in range(CUSTOMERS)
    ]
    sales = [
        IncomingEvent(
            kind="sale", event_id=f"s{c}-{n}", customer_external_id=f"c{c}", amount=Decimal("10.00"), currency="USD"
        )
        for n in range(SALES_PER_CUSTOMER)
        for c in range(CUSTOMERS)
    ]
    total = len(leads) + len(sales)
    accept_events(workspace=workspace, events=leads, source="api")
    for start in range(0, len(sales), 5000):
        accept_events(workspace=workspace, events=sales[start : start + 5000], source="api")

    log, hold, held = tmp_path / "worker.log", tmp_path / "hold", tmp_path / "held"
    worker = start_worker(queue, log, hold, held)
    try:
        # Kill it once a set has committed and the next one is held mid-way, its sales written.
        assert wait_for(lambda: pending(workspace) < total - 1000, 120), log.read_text()
        hold.touch()
        assert wait_for(held.exists, 60), log.read_text()
        assert worker_in_a_transaction()
        kill(worker)
        assert wait_for(lambda: not worker_in_a_transaction(), 30)

        # Nothing half-done: what was processed is complete, the rest untouched and still received.
        left = pending(workspace)
        assert 0 < left < total
        attributed_sales = (
            InboundEvent.objects.for_workspace(workspace).filter(kind="sale", status="attributed").count()
        )
        assert Conversion.objects.for_workspace(workspace).count() == attributed_sales
        assert Commission.objects.for_workspace(workspace).count() == attributed_sales
        assert LedgerEntry.objects.for_workspace(workspace).count() == attributed_sales

        # A new worker; beat's sweeper finds what nobody finished (here: anything older than now).
        hold.unlink()
        worker = start_worker(queue, log, hold, held)
        assert tasks.sweep_inbound_events(older_than_seconds=0, queue=queue) == left
        assert wait_for(lambda: pending(workspace) == 0, 180), log.read_text()[-5000:]
    finally:
        kill(worker)

    assert Conversion.objects.for_workspace(workspace).count() == len(sales)
    assert Conversion.objects.for_workspace(workspace).values("event_id").distinct().count() == len(sales)
    assert Commission.objects.for_workspace(workspace).count() == len(sales)
    assert LedgerEntry.objects.for_workspace(workspace).count() == len(sales)
    assert sum(LedgerEntry.objects.for_workspace(workspace).values_list("amount", flat=True)) == Decimal("2.00") * len(
        sales
    )
    assert verify_chain(workspace) == (len(sales), None)
