"""The development server under load holds at most its pool of PostgreSQL connections.

Seen before: the threaded dev server opened a connection per request thread and kept each for
CONN_MAX_AGE, until PostgreSQL answered "too many clients" and /r/<code> failed with a 500. Now web
processes draw from a bounded psycopg pool (settings DB_POOL_MAX_SIZE).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from tests.integration.test_celery_worker import BASE_DIR, _wait_for, database_url_of_test_database

pytestmark = pytest.mark.integration

POOL_SIZE = 3
REQUESTS = 80


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


@pytest.fixture
def dev_server(transactional_db, tmp_path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_ENV": "development",
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "DB_POOL_MAX_SIZE": str(POOL_SIZE),
    }
    env.pop("DB_POOL", None)
    log = open(tmp_path / "web.log", "w+")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not _wait_for(lambda: _get(f"{base}/healthz") == 200, 60):
            log.seek(0)
            pytest.fail(f"the dev server did not serve /healthz:\n{log.read()[-3000:]}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _server_connections(ours: list[int]) -> int:
    """Client connections to the test database, other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> ALL(%s)",
            [ours],
        )
        return int(cursor.fetchone()[0])


def test_a_burst_of_requests_to_the_dev_server_stays_within_its_pool(dev_server):
    peak = 0
    done = threading.Event()
    ours = [_backend_pid()]

    def watch() -> None:
        nonlocal peak
        ours.append(_backend_pid())  # this thread's own connection
        try:
            while not done.is_set():
                peak = max(peak, _server_connections(ours))
                time.sleep(0.02)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(lambda _: _get(f"{dev_server}/healthz"), range(REQUESTS)))
    finally:
        done.set()
        watcher.join()
    assert statuses == [200] * REQUESTS
    assert 1 <= peak <= POOL_SIZE, f"the dev server held {peak} connections with a pool of {POOL_SIZE}"
