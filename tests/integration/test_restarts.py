"""`make run` survives any stop: 20 cycles of start, serve /healthz, stop at a random moment by SIGINT or
SIGKILL (of the supervisor, one of its processes, or the embedded PostgreSQL or Redis), start again.

Each start is `make run`'s own supervisor (python -m config.devstack) on a temporary data directory
and a free port; only the first cycle migrates and loads the demo. The seed is printed on failure
(TANDEM_RESTART_SEED=<seed> repeats a run).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from config import devstack
from config.embedded import stop_all

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
CYCLES = 20
SERVE_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


class Run:
    """One `make run` (its supervisor) on a data directory and port."""

    def __init__(self, data_dir: Path, port: int, log: Path, *, setup: bool) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
        env.update(DJANGO_ENV="development", TANDEM_DATA_DIR=str(data_dir), PORT=str(port), LOG_LEVEL="WARNING")
        self.port, self.log = port, log
        with open(log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "config.devstack", *([] if setup else ["--no-setup"])],
                                            cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_until_serving(self, why: str) -> None:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while not _healthy(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
                pytest.fail(f"{why}: /healthz never answered 200 (supervisor exit {self.process.poll()}):\n{tail}")
            time.sleep(0.2)

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(sig)
        return self.process.wait(STOP_TIMEOUT)


def _children(supervisor_pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split()]


def _daemon_pid(data_dir: Path, which: str) -> int:
    pid_file = data_dir / "postgres" / "postmaster.pid" if which == "postgres" else data_dir / "redis" / "redis.pid"
    return int(pid_file.read_text().splitlines()[0])


def _stop_at_random(run: Run, data_dir: Path, rng: random.Random) -> str:
    """Stop the run one of the ways a developer (or a crash) does; returns what was done."""
    time.sleep(rng.uniform(0, 1.5))
    way = rng.choice(["sigint", "sigkill", "child", "postgres", "redis"])
    if way == "sigint":
        assert run.stop(signal.SIGINT) == 128 + signal.SIGINT
    elif way == "sigkill":
        run.stop(signal.SIGKILL)
    else:
        victim = rng.choice(_children(run.process.pid)) if way == "child" else _daemon_pid(data_dir, way)
        os.kill(victim, signal.SIGKILL)
        time.sleep(rng.uniform(0, 2))
        run.stop(rng.choice([signal.SIGINT, signal.SIGKILL]))
    return way


def _leftovers(data_dir: Path) -> list[int]:
    marker = f"{devstack.MARKER}={data_dir}:".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def test_twenty_cycles_of_start_and_random_stop_each_serve(tmp_path):
    seed = int(os.environ.get("TANDEM_RESTART_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    log = tmp_path / "run.log"
    port = _free_port()
    done: list[str] = []
    try:
        for cycle in range(CYCLES):
            run = Run(data_dir, port, log, setup=cycle == 0)
            run.wait_until_serving(f"seed {seed}, cycle {cycle + 1} after {done}")
            done.append(_stop_at_random(run, data_dir, rng))
        final = Run(data_dir, port, log, setup=False)
        final.wait_until_serving(f"seed {seed}, after {done}")
        assert final.stop() == 128 + signal.SIGINT
        assert _leftovers(data_dir.resolve()) == [], f"seed {seed}"
    finally:
        stop_all(data_dir)


def test_two_runs_on_one_data_directory_both_serve_and_stop_cleanly(tmp_path):
    data_dir = tmp_path / "data"
    runs = [Run(data_dir, _free_port(), tmp_path / f"run{n}.log", setup=False) for n in range(2)]
    try:
        for n, run in enumerate(runs):
            run.wait_until_serving(f"run {n + 1} of two at once")
        assert [run.stop() for run in runs] == [128 + signal.SIGINT] * 2
        assert _leftovers(data_dir.resolve()) == []
        again = Run(data_dir, runs[0].port, tmp_path / "again.log", setup=False)
        again.wait_until_serving("a run after two at once")
        again.stop()
    finally:
        stop_all(data_dir)
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
