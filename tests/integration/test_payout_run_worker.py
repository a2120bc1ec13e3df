"""A whole payout run against a local Stripe stand-in, paid by a real Celery worker that is SIGKILLed while
Stripe is answering: two Stripe Connect partners, one SEPA, one PayPal and one without a payout method.

Executed twice (and a third time at the end): Stripe saw exactly one successful transfer per Connect
statement, with the right amount, destination and idempotency key; the SEPA file validates against the
pain.001.001.03 schema with the right IBAN and amount; the partner without a method says why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.conf import settings

from accounts.models import Workspace
from attribution.integrations.services import set_stripe_secret_key
from reporting.payouts.models import Payout, Statement
from reporting.payouts.runs.files import sepa_xml
from reporting.payouts.runs.models import PayoutRun, SepaDebtor
from reporting.payouts.runs.services import confirm_payout_items, execute_payout_run, items_of, prepare_payout_run
from tests.integration.test_celery_worker import database_url_of_test_database
from tests.reporting.payout_run_support import IBAN_DE, StripeStandIn, build_world

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
SCHEMA = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _start_worker(queue: str, stripe_base: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_ENV": settings.DJANGO_ENV,
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_TIMEOUT_SECONDS": "60",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queue,
         "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--pool", "prefork", "--concurrency", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        cwd=BASE_DIR, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    if not _wait_for(lambda: "ready." in log.read_text() or worker.poll() is not None, 60) or worker.poll() is not None:
        pytest.fail(f"the Celery worker did not start:\n{log.read_text()}")
    return worker


def _kill(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool child, no goodbye
    except ProcessLookupError:
        pass
    worker.wait()


def _run(run: PayoutRun) -> PayoutRun:
    return PayoutRun.objects.get(workspace_id=run.workspace_id, id=run.id)


def test_a_run_whose_worker_is_killed_pays_each_statement_exactly_once(transactional_db, tmp_path):
    workspace = Workspace.objects.create(slug=f"run-kill-{uuid.uuid4().hex[:6]}", name="Payout run kill test")
    set_stripe_secret_key(workspace=workspace, secret_key="sk_test_integration0123456789", by=None)
    SepaDebtor.objects.create(
        workspace=workspace, name="Kill Test GmbH", iban="DE02120300000000202051", bic="BYLADEM1001"
    )
    world = build_world(workspace)
    standin = StripeStandIn(hang_next=1, hang_seconds=8.0).start()
    queue = f"integration-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    worker = _start_worker(queue, standin.url, log)
    try:
        run = prepare_payout_run(workspace=workspace, period=world.period)
        execute_payout_run(run=run, queue=queue)
        # Stripe has the first transfer and makes it, but the worker dies before the answer arrives.
        assert _wait_for(lambda: len(standin.transfers()) >= 1, 60), log.read_text()
        _kill(worker)
        first = world.statements["stripe_a"]
        assert items_of(run).get(statement=first).status == "sending"
        assert Statement.objects.get(pk=first.pk).status == "issued"
        assert len(standin.made_transfers()) == 1

        worker = _start_worker(queue, standin.url, log)
        execute_payout_run(run=_run(run), queue=queue)  # finance clicks again: same keys, nothing twice
        assert _wait_for(lambda: _run(run).status != "executing", 90), log.read_text()[-5000:]
        execute_payout_run(run=_run(run), queue=queue)
        time.sleep(1.0)
    finally:
        _kill(worker)
        standin.stop()

    connect = {key: world.statements[key] for key in ("stripe_a", "stripe_b")}
    made = standin.made_transfers()
    assert set(made) == {f"tandem-statement-{s.pk}" for s in connect.values()}
    accounts = {"stripe_a": "acct_1AlphaAlpha", "stripe_b": "acct_1BravoBravo"}
    for key, statement in connect.items():
        transfer = made[f"tandem-statement-{statement.pk}"]
        assert transfer.form["amount"] == str(int(statement.total * 100))
        assert (transfer.form["currency"], transfer.form["destination"]) == ("usd", accounts[key])
        assert transfer.form["transfer_group"] == f"tandem-payout-run-{run.id}"
        assert Statement.objects.get(pk=statement.pk).status == "paid"
        assert Payout.objects.filter(statement=statement).count() == 1
    sent_a = [
        r for r in standin.transfers() if r.headers["idempotency-key"] == f"tandem-statement-{connect['stripe_a'].pk}"
    ]
    assert len(sent_a) == 2  # sent again after the kill, with the same key: Stripe answered the same transfer

    assert _run(run).status == "awaiting_confirmation"
    document = sepa_xml(_run(run))
    xmlschema.XMLSchema(str(SCHEMA)).validate(document.decode())
    root = ET.fromstring(document)
    assert [n.text for n in root.findall(".//p:CdtTrfTxInf/p:CdtrAcct/p:Id/p:IBAN", NS)] == [IBAN_DE]
    assert [n.text for n in root.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)] == ["310.25"]

    blocked = items_of(run).get(statement=world.statements["none"])
    assert blocked.status == "blocked"
    assert blocked.blocked_reason == "No payout method: the partner has not said how it wants to be paid."

    confirm_payout_items(run=_run(run), reference="BANK-2026-10")
    assert _run(run).status == "done"
    assert Payout.objects.for_workspace(workspace).count() == 4
    assert Statement.objects.get(pk=world.statements["none"].pk).status == "issued"
