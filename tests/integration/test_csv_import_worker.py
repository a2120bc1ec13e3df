"""A real Celery worker SIGKILLed in the middle of a CSV import: after a new worker starts and the
sweeper sends the import again, it finishes with every line imported exactly once.

Like tests/integration/test_celery_worker.py, the worker is a separate process on a queue of its
own, pointed at pytest-django's test database (hence `transactional_db`) and at this test's media
folder, where the uploaded file lives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Workspace
from attribution.integrations.csv_import import CHUNK_ROWS, resume_stalled_imports, upload_csv
from attribution.integrations.models import CsvImport
from attribution.integrations.tasks import run_csv_import
from attribution.models import InboundEvent
from tests.integration.test_celery_worker import database_url_of_test_database

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
LINES = 40_000  # forty chunks: long enough to be killed in the middle


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _start_worker(queue: str, media: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_ENV": settings.DJANGO_ENV,
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(media),
    }
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
    if not _wait_for(lambda: "ready." in log.read_text() or worker.poll() is not None, 60) or worker.poll() is not None:
        pytest.fail(f"the Celery worker did not start:\n{log.read_text()}")
    return worker


def _kill(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool child, no goodbye
    except ProcessLookupError:
        pass
    worker.wait()


def _progress(pk: int) -> tuple[str, int]:
    return CsvImport.objects.filter(pk=pk).values_list("status", "processed_rows").get()


def test_an_import_whose_worker_is_killed_finishes_once_a_new_worker_starts(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    workspace = Workspace.objects.create(slug=f"csv-kill-{uuid.uuid4().hex[:6]}", name="CSV kill test")
    text = "Customer ID,Amount,Currency\n" + "".join(f"cus_{i},{i % 90 + 1}.50,USD\n" for i in range(LINES))
    row, _ = upload_csv(
        workspace=workspace, kind="sales", by=None, uploaded=SimpleUploadedFile("big.csv", text.encode())
    )
    # Queued by hand rather than by start_import, so the task goes to this test's worker only.
    CsvImport.objects.filter(pk=row.pk).update(status="queued", mapping=row.mapping)
    queue = f"integration-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"

    worker = _start_worker(queue, settings.MEDIA_ROOT, log)
    try:
        run_csv_import.apply_async(args=[row.pk], queue=queue)
        assert _wait_for(lambda: _progress(row.pk)[1] >= CHUNK_ROWS, 120), log.read_text()
        _kill(worker)
        status, processed = _progress(row.pk)
        assert status == "running" and 0 < processed < LINES, "killed too late to test a resume"

        worker = _start_worker(queue, settings.MEDIA_ROOT, log)
        assert resume_stalled_imports(stalled_after=timedelta(0), queue=queue) == 1
        assert _wait_for(lambda: _progress(row.pk)[0] == "done", 180), log.read_text()[-5000:]
    finally:
        _kill(worker)

    row.refresh_from_db()
    assert (row.total_rows, row.processed_rows, row.accepted_rows, row.duplicate_rows, row.error_rows) == (
        LINES,
        LINES,
        LINES,
        0,
        0,
    )
    assert InboundEvent.objects.for_workspace(workspace).count() == LINES
