"""A flusher killed with SIGKILL mid-batch loses no click and writes none twice (real processes).

The flusher runs as `manage.py flush_clicks` in a subprocess against the test database and the
same Redis. It is killed while a batch is committed but not yet acknowledged (the command's
`--pause-before-ack` widens that window); a second flusher then takes the dead one's pending
entries over and drains the rest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from referrals.clicks.buffer import GROUP, client, stream_key
from referrals.clicks.entries import Visit, stream_entry
from referrals.clicks.flusher import buffered_count
from referrals.models import Click
from tests.referrals.factories import LinkFactory

pytestmark = pytest.mark.integration

SENT = 20_000
TIMEOUT = 120


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="") + (":" + quote(db["PASSWORD"], safe="") if db.get("PASSWORD") else "")
    host = db.get("HOST") or ""
    if host.startswith("/"):
        return f"postgres://{credentials}@/" + quote(f"{host}/{db['NAME']}", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def _flusher(*extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_ENV": settings.DJANGO_ENV,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "flush_clicks", "--batch-size", "500", "--claim-idle-ms", "300", *extra],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _send(link, count: int) -> None:
    r = client()
    key = stream_key()
    start = time.time()
    for first in range(0, count, 1000):
        pipe = r.pipeline(transaction=False)
        for n in range(first, min(first + 1000, count)):
            visit = Visit(
                click_id=f"crash-{n:06d}",
                at=start + n / 1000,
                ip=f"10.{n % 200}.{n // 200 % 200}.1",
                user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
                referrer="",
            )
            pipe.xadd(key, stream_entry(link.pk, link.workspace_id, link.partner_id, visit))
        pipe.execute()


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def buffer(transactional_db):
    r = client()
    r.delete(stream_key())
    yield
    r.delete(stream_key())


def test_a_flusher_killed_mid_batch_loses_and_duplicates_nothing(buffer):
    link = LinkFactory(code="crash-test")
    _send(link, SENT)

    doomed = _flusher("--pause-before-ack", "0.3")
    try:
        assert _wait_for(lambda: Click.objects.count() >= 1500 or doomed.poll() is not None, TIMEOUT)
        os.kill(doomed.pid, signal.SIGKILL)
    finally:
        doomed.wait()
    stored_at_kill = Click.objects.count()
    pending = client().xpending(stream_key(), GROUP)["pending"]
    assert 0 < stored_at_kill < SENT
    assert pending > 0, "the kill should leave a batch read but not acknowledged"

    time.sleep(0.4)  # the dead flusher's entries become claimable (--claim-idle-ms 300)

    def drained() -> bool:
        # The killed session's advisory lock goes when PostgreSQL notices; until then a flusher steps aside.
        output = _flusher().communicate(timeout=TIMEOUT)[0]
        assert "malformed" in output, output
        return buffered_count() == 0

    assert _wait_for(drained, TIMEOUT)
    assert Click.objects.count() == SENT
    assert not Click.objects.values("click_id").annotate(n=Count("id")).filter(n__gt=1).exists()
