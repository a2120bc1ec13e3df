"""A real `celery -A config worker` process runs a task against the real PostgreSQL and Redis.

The worker is a separate process, so it sees only committed rows: the test uses
`transactional_db`, and points the worker at pytest-django's test database
(`test_<NAME>`), over TCP or over the embedded server's unix socket alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Heartbeat
from accounts.tasks import record_heartbeat

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
WORKER_START_TIMEOUT = 60
TASK_TIMEOUT = 60


def database_url_of_test_database() -> str:
    """The URL of the database this test runs against, as the worker's DATABASE_URL."""
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or ""
    if host.startswith("/"):
        # A unix-socket directory goes in the path: django-environ splits it off the name.
        return f"postgres://{credentials}@/" + quote(f"{host}/{db['NAME']}", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def worker_queue(transactional_db, tmp_path) -> Iterator[str]:
    """Start a worker on a queue of its own (so no other worker can take the task) and stop it after."""
    queue = f"integration-{uuid.uuid4().hex[:12]}"
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
            print(log_path.read_text())  # pytest shows it when the test fails


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_worker_records_a_heartbeat_in_postgresql(worker_queue):
    name = f"integration-{uuid.uuid4().hex[:8]}"

    record_heartbeat.apply_async(kwargs={"name": name}, queue=worker_queue)

    landed = _wait_for(lambda: Heartbeat.objects.filter(name=name).exists(), TASK_TIMEOUT)
    assert landed, f"no Heartbeat row {name!r} within {TASK_TIMEOUT}s"
    heartbeat = Heartbeat.objects.get(name=name)
    assert heartbeat.count == 1


def test_running_the_task_twice_only_moves_the_heartbeat_forward(worker_queue):
    name = f"integration-{uuid.uuid4().hex[:8]}"

    record_heartbeat.apply_async(kwargs={"name": name}, queue=worker_queue)
    assert _wait_for(lambda: Heartbeat.objects.filter(name=name).exists(), TASK_TIMEOUT)
    first = Heartbeat.objects.get(name=name).beat_at
    record_heartbeat.apply_async(kwargs={"name": name}, queue=worker_queue)

    assert _wait_for(lambda: Heartbeat.objects.filter(name=name, count=2).exists(), TASK_TIMEOUT)
    assert Heartbeat.objects.get(name=name).beat_at >= first
