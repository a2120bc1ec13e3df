"""`make run` survives any stop: 20 cycles of start, serve /healthz, stop at a random moment by SIGINT or
SIGKILL (of the supervisor, one of its processes, or the embedded PostgreSQL or Redis), start again.

Each start is `make run`'s own supervisor (python -m config.devstack) on a temporary data directory
and a free port, with the real Procfile's lines: all three in the first and last start and
whenever the process to kill is one of them, else web (which /healthz needs) and each of worker and
beat by a coin toss, which spares two CPUs a third of the cycles' process starts. The directory is migrated once for the module (the
slow part of a first start, and no part of what is tested); the first cycle still runs the
supervisor's set-up (migrate, load the demo), the others start with --no-setup, as a `make run` on
a set-up directory spends its time there. The seed is printed on failure
(TANDEM_RESTART_SEED=<seed> repeats a run).

Whatever a test started is gone after it: each ends with `make stop`'s stop_all and asserts that no
process of its temporary directory is left (the supervisors it started, their processes, the
daemons named by the pid files or serving its sockets), killing any it finds.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from config import devstack
from config.embedded import common as embedded_common
from config.embedded import postgres as embedded_postgres
from config.embedded import redis as embedded_redis
from config.embedded import stop_all

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
CYCLES = 20
SERVE_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
POLL = 0.05


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


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", devstack.MARKER)
    }
    env.update(DJANGO_ENV="development", TANDEM_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING", **extra)
    return env


class Run:
    """One `make run` (its supervisor) on a data directory and port."""

    started: list[int] = []  # every supervisor pid, for the leftover check

    def __init__(self, data_dir: Path, port: int, log: Path, *, setup: bool, procfile: Path | None = None) -> None:
        self.port, self.log = port, log
        options = [*([] if setup else ["--no-setup"]), *(["--procfile", str(procfile)] if procfile else [])]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "config.devstack", *options],
                cwd=BASE_DIR,
                env=_env(data_dir, PORT=str(port)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        Run.started.append(self.process.pid)

    def wait_until_serving(self, why: str) -> None:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while not _healthy(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
                pytest.fail(f"{why}: /healthz never answered 200 (supervisor exit {self.process.poll()}):\n{tail}")
            time.sleep(POLL)

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(sig)
        return self.process.wait(STOP_TIMEOUT)


def _children(supervisor_pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split()]


def _child(supervisor_pid: int, name: str) -> int:
    """The supervisor's process running the Procfile line `name` (web: runserver, worker, beat)."""
    word = {"web": b" runserver ", "worker": b" worker ", "beat": b" beat "}[name]
    for pid in _children(supervisor_pid):
        if word in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "):
            return pid
    raise AssertionError(f"no {name} among the supervisor's processes")


def _procfile(directory: Path, names: list[str]) -> Path:
    """The real Procfile's lines for `names`, verbatim."""
    lines = [line for line in (BASE_DIR / "Procfile").read_text().splitlines() if line.split(":")[0] in names]
    path = directory / f"Procfile.{'-'.join(names)}"
    path.write_text("\n".join(lines) + "\n")
    return path


def _daemon_pid(data_dir: Path, which: str) -> int:
    pid_file = data_dir / "postgres" / "postmaster.pid" if which == "postgres" else data_dir / "redis" / "redis.pid"
    return int(pid_file.read_text().splitlines()[0])


def _daemons(data_dir: Path) -> dict[str, list[int]]:
    """The live PostgreSQL postmasters and Redis servers of data_dir, found in /proc, not by pid file."""
    return {
        "postgres": embedded_postgres._postmasters((data_dir / "postgres").resolve()),
        "redis": embedded_redis._redises((data_dir / "redis").resolve()),
    }


WAYS = ["sigint", "sigkill", "child", "postgres", "redis"]


def _stop_at_random(run: Run, data_dir: Path, rng: random.Random, way: str, victim: str) -> str:
    """Stop the run one of the ways a developer (or a crash) does; returns what was done."""
    time.sleep(rng.uniform(0, 1.5))
    if way == "sigint":
        assert run.stop(signal.SIGINT) == 128 + signal.SIGINT
    elif way == "sigkill":
        run.stop(signal.SIGKILL)
    else:
        if way == "child":
            way = victim
        os.kill(_child(run.process.pid, victim) if victim else _daemon_pid(data_dir, way), signal.SIGKILL)
        time.sleep(rng.uniform(0, 1.5))
        way += "+" + ("sigint" if run.stop(rng.choice([signal.SIGINT, signal.SIGKILL])) > 0 else "sigkill")
    return way


def _leftovers(data_dir: Path) -> list[int]:
    """Processes of a supervisor of data_dir (its marker in their environment)."""
    marker = f"{devstack.MARKER}={data_dir}:".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    return devstack._alive(pid)


def _everything_of(root: Path, data_dir: Path) -> list[int]:
    """Every live process this module started under `root`: the supervisors, their processes, the daemons
    named by the pid files under it or serving its data directory, anything whose command line names it."""
    pids = {p for p in Run.started if _alive(p)} | set(_leftovers(data_dir))
    for which in ("postgres", "redis"):
        try:
            pids.add(_daemon_pid(data_dir, which))
        except (FileNotFoundError, IndexError, ValueError):
            pass
    pids |= {p for found in _daemons(data_dir).values() for p in found}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(root).encode() in (proc / "cmdline").read_bytes():
                pids.add(int(proc.name))
        except OSError:
            pass
    pids.discard(os.getpid())
    return sorted(p for p in pids if _alive(p) and embedded_common._process_name(p) is not None)


def _stop_and_assert_nothing_left(root: Path, data_dir: Path, context: str, *, failing: bool = False) -> None:
    """`make stop`, then kill and (unless the test already failed) report whatever is left."""
    stop_all(data_dir)
    left = _everything_of(root, data_dir)
    described = {
        p: (
            Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
            if _alive(p)
            else "gone"
        )
        for p in left
    }
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert failing or not left, f"{context}: left running after the test: {described}"


@contextmanager
def _cleaned_up(root: Path, data_dir: Path, context: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        _stop_and_assert_nothing_left(root, data_dir, context, failing=True)
        raise
    _stop_and_assert_nothing_left(root, data_dir, context)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Iterator[Path]:
    """A data directory with its embedded servers started and Tandem's tables migrated, for the module."""
    root = tmp_path_factory.mktemp("restarts")
    directory = (root / "data").resolve()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=_env(directory), check=True
    )
    yield directory
    _stop_and_assert_nothing_left(root, directory, "module")


def test_twenty_cycles_of_start_and_random_stop_each_serve(data_dir, tmp_path):
    seed = int(os.environ.get("TANDEM_RESTART_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    log = tmp_path / "run.log"
    port = _free_port()
    done: list[str] = []
    timings: list[tuple[float, float]] = []
    began = time.monotonic()
    try:
        with _cleaned_up(tmp_path, data_dir, f"seed {seed}"):
            for cycle in range(CYCLES):
                way = rng.choice(WAYS)
                victim = rng.choice(["web", "worker", "beat"]) if way == "child" else ""
                names = ["web", *(n for n in ("worker", "beat") if cycle == 0 or n == victim or rng.random() < 0.5)]
                started = time.monotonic()
                run = Run(data_dir, port, log, setup=cycle == 0, procfile=_procfile(tmp_path, names))
                run.wait_until_serving(f"seed {seed}, cycle {cycle + 1} ({names}) after {done}")
                serving = time.monotonic()
                done.append(f"{'+'.join(names)}: " + _stop_at_random(run, data_dir, rng, way, victim))
                timings.append((serving - started, time.monotonic() - serving))
            final = Run(data_dir, port, log, setup=False)
            final.wait_until_serving(f"seed {seed}, after {done}")
            assert final.stop() == 128 + signal.SIGINT
            assert _leftovers(data_dir) == [], f"seed {seed}"
            # However the cycles went, one PostgreSQL and one Redis serve the directory, not two.
            assert {k: len(v) for k, v in _daemons(data_dir).items()} == {"postgres": 1, "redis": 1}, f"seed {seed}"
    finally:
        print(f"seed {seed}, {time.monotonic() - began:.0f} s; per cycle: serving after (s), stopped after (s), how")
        for (serve, stop), way in zip(timings, done, strict=False):
            print(f"  {serve:5.1f} {stop:5.1f}  {way}")


def test_two_runs_on_one_data_directory_share_one_of_each_server_and_stop_cleanly(data_dir, tmp_path):
    runs: list[Run] = []
    with _cleaned_up(tmp_path, data_dir, "two runs"):
        runs += [Run(data_dir, _free_port(), tmp_path / f"run{n}.log", setup=False) for n in range(2)]
        for n, run in enumerate(runs):
            run.wait_until_serving(f"run {n + 1} of two at once")
        # A daemon killed under two supervisors comes back once, not once per supervisor.
        for which in ("redis", "postgres"):
            os.kill(_daemon_pid(data_dir, which), signal.SIGKILL)
            for run in runs:
                run.wait_until_serving(f"both runs after a killed {which}")
            time.sleep(2 * devstack.WATCH_SERVERS_EVERY)  # each supervisor has watched since
            assert {k: len(v) for k, v in _daemons(data_dir).items()} == {"postgres": 1, "redis": 1}, which
        # `make stop` while both run: neither supervisor starts the servers again.
        stop_all(data_dir)
        time.sleep(2 * devstack.WATCH_SERVERS_EVERY + 1)
        assert _daemons(data_dir) == {"postgres": [], "redis": []}
        assert all(run.process.poll() is None for run in runs)
        assert [run.stop() for run in runs] == [128 + signal.SIGINT] * 2
        assert _leftovers(data_dir) == []
        # ... and the next `make run` starts them.
        again = Run(data_dir, runs[0].port, tmp_path / "again.log", setup=False)
        again.wait_until_serving("a run after two at once and `make stop`")
        assert again.stop() == 128 + signal.SIGINT
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
