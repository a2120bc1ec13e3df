"""`make run`'s supervisor: web, Celery worker and beat, each restarted when it dies.

A killed worker must not take web and beat down with it (as honcho, used before, did). Each
process of the Procfile runs in its own process group; one that exits unexpectedly is started
again after a backoff (1 s, doubling to 30 s; reset once it has run for a minute), while the
others keep going. Ctrl-C or SIGTERM stops them all: SIGTERM to every group,
SIGKILL to what is left after STOP_TIMEOUT, then the supervisor exits.

Nothing outlives a supervisor killed with -9 for long: its children get SIGTERM from the kernel
(PR_SET_PDEATHSIG), and the next supervisor on the same data directory kills whatever is left of
them (a grandchild, such as runserver's served process), found by the marker in their environment.
Two supervisors on one data directory share its embedded servers; only one runs beat at a time
(an fcntl lock), so periodic tasks do not run twice and its schedule file is not written by two.

The embedded PostgreSQL and Redis are daemons, not children. Every WATCH_SERVERS_EVERY seconds the
supervisor starts one that died again, through config.embedded (under the server's lock, and only
when no live one exists), and only while it is itself running: never once a stop signal came, and
never after `make stop` stopped them on purpose (its `stopped` marker; the supervisor's processes
obey it too, see config.embedded.StoppedOnPurpose). A `make run` started afterwards, or a
`manage.py` run on its own, starts them again.

    python -m config.devstack [--no-setup]

First it starts the embedded servers (unless DATABASE_URL / REDIS_URL are set), migrates and loads
the demo workspace; --no-setup skips the migration and the demo.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 10.0
BACKOFF_START, BACKOFF_MAX, STABLE_AFTER = 1.0, 30.0, 60.0
WATCH_SERVERS_EVERY = 2.0
MARKER = "TANDEM_DEVSTACK"  # "<data dir>:<supervisor pid>", in each child's environment
_PR_SET_PDEATHSIG = 1
_COLOURS = ("\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m")


def data_dir() -> Path:
    return Path(os.environ.get("TANDEM_DATA_DIR", str(BASE_DIR / ".data" / "dev"))).resolve()


def embedded() -> tuple[bool, bool]:
    return "DATABASE_URL" not in os.environ, "REDIS_URL" not in os.environ


def ensure_servers(directory: Path, *, explicit: bool = True) -> None:
    """Start the embedded PostgreSQL and Redis unless they run (a no-op for servers given by URL).

    explicit=False (the watch) raises config.embedded.StoppedOnPurpose after `make stop` instead.
    """
    from config import embedded as servers

    use_postgres, use_redis = embedded()
    if use_postgres:
        servers.postgres_database(directory / "postgres", explicit=explicit)
    if use_redis:
        servers.redis_url(directory / "redis", explicit=explicit)


def read_procfile(path: Path) -> dict[str, str]:
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_-]+):\s*(.+)", line.strip())
        if match:
            commands[match[1]] = match[2]
    return commands


def _in_own_group_dying_with_parent() -> None:
    # Runs in the child between fork and exec: its own process group (so a signal to ours does
    # not reach it twice, and we can signal all of it), and SIGTERM when the supervisor dies.
    os.setpgrp()
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def kill_leftovers(directory: Path) -> int:
    """SIGKILL the process groups of earlier supervisors of `directory` that are no longer alive."""
    prefix = f"{MARKER}={directory}:".encode()
    killed = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            entries = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        owner = next((e[len(prefix) :] for e in entries if e.startswith(prefix)), None)
        if owner is None or not owner.isdigit() or _alive(int(owner)):
            continue
        if _program(int(proc.name)) in ("postgres", "redis-server"):
            continue  # a shared daemon started by one of its processes (before daemons lost the marker)
        try:
            os.kill(int(proc.name), signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def _program(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().partition("(")[2].rpartition(")")[0]
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Child:
    name: str
    command: str
    colour: str
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = BACKOFF_START
    restart_at: float | None = 0.0  # when to (re)start it; None while running or stopped for good
    restarts: int = 0
    waiting: bool = False  # beat, while another supervisor runs it


class Supervisor:
    def __init__(self, commands: dict[str, str], env: dict[str, str], directory: Path) -> None:
        width = max(len(name) for name in commands)
        self.children = [
            Child(name.ljust(width), command, _COLOURS[n % len(_COLOURS)])
            for n, (name, command) in enumerate(commands.items())
        ]
        self.env = env
        self.directory = directory
        self.stopping: int | None = None  # the signal that asked us to stop
        self.output_lock = threading.Lock()
        self.colour = sys.stdout.isatty()
        self.beat_lock: IO[str] | None = None
        self.told_stopped = False

    # --- output -------------------------------------------------------------------------------------

    def say(self, name: str, text: str, colour: str = "") -> None:
        stamp = time.strftime("%H:%M:%S")
        prefix = f"{colour}{stamp} {name} |\033[0m " if self.colour and colour else f"{stamp} {name} | "
        with self.output_lock:
            sys.stdout.write(prefix + text.rstrip("\n") + "\n")
            sys.stdout.flush()

    def _pump(self, child: Child, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self.say(child.name, line.decode("utf-8", "replace"), child.colour)
        stream.close()

    # --- processes ----------------------------------------------------------------------------------

    def _may_run(self, child: Child) -> bool:
        """beat runs in one supervisor per data directory at a time: the one holding beat.lock."""
        if child.name.strip() != "beat":
            return True
        if self.beat_lock is None:
            handle = open(self.directory / "beat.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self.beat_lock = handle
        return True

    def start(self, child: Child) -> None:
        if not self._may_run(child):
            if not child.waiting:
                self.say(child.name, "another `make run` on this data directory runs beat; taking over when it stops")
                child.waiting = True
            child.restart_at = time.monotonic() + 2.0
            return
        child.process = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {child.command}"],
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_in_own_group_dying_with_parent,
        )
        child.started, child.restart_at = time.monotonic(), None
        assert child.process.stdout is not None
        threading.Thread(target=self._pump, args=(child, child.process.stdout), daemon=True).start()

    def _signal_group(self, child: Child, sig: signal.Signals) -> None:
        if child.process is None:
            return
        try:
            os.killpg(child.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            code = child.process.returncode
            self._signal_group(child, signal.SIGKILL)  # its own children (prefork workers, runserver's)
            child.process = None
            if self.stopping is not None:
                continue
            if now - child.started > STABLE_AFTER:
                child.backoff = BACKOFF_START
            reason = f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"
            self.say(child.name, f"exited with {reason}; restarting in {child.backoff:.0f} s", child.colour)
            child.restart_at = now + child.backoff
            child.backoff = min(child.backoff * 2, BACKOFF_MAX)
            child.restarts += 1

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._ask_to_stop)
        watched_at = time.monotonic()
        while self.stopping is None:  # set by a signal, possibly one that came before run()
            now = time.monotonic()
            for child in self.children:
                if child.process is None and child.restart_at is not None and now >= child.restart_at:
                    self.start(child)
            if now - watched_at > WATCH_SERVERS_EVERY:
                watched_at = now
                self.watch_servers()
            time.sleep(0.2)
            self._reap()
        return self.stop()

    def watch_servers(self) -> None:
        """A PostgreSQL or Redis killed under us comes back at the same socket (see the module's rule)."""
        from config.embedded import StoppedOnPurpose

        if self.stopping is not None:
            return
        try:
            ensure_servers(self.directory, explicit=False)
            self.told_stopped = False
        except StoppedOnPurpose as exc:
            if not self.told_stopped:
                self.say("system", f"{exc}; not restarting them")
                self.told_stopped = True
        except Exception as exc:  # noqa: BLE001 - reported, then tried again
            self.say("system", f"the embedded servers could not be started: {exc}")

    def _ask_to_stop(self, signum: int, _frame: object) -> None:
        if self.stopping is None:
            self.stopping = signum

    def stop(self) -> int:
        for child in self.children:
            self._signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(c.process is not None and c.process.poll() is None for c in self.children):
            if time.monotonic() > deadline:
                for child in self.children:
                    self._signal_group(child, signal.SIGKILL)
                break
            time.sleep(0.05)
        for child in self.children:
            self._signal_group(child, signal.SIGKILL)  # stragglers in each group
            if child.process is not None:
                child.process.wait()
        assert self.stopping is not None
        return 128 + self.stopping


def _setup(env: dict[str, str], stop: threading.Event) -> bool:
    """migrate, then seed_demo, each in its own group so that a stop during set-up ends them too."""
    for args in (["migrate", "--noinput"], ["seed_demo"]):
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, preexec_fn=_in_own_group_dying_with_parent
        )
        while process.poll() is None:
            if stop.wait(0.1):
                os.killpg(process.pid, signal.SIGTERM)
                process.wait()
                return False
        if process.returncode != 0:
            raise SystemExit(f"`manage.py {' '.join(args)}` failed with code {process.returncode}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-setup", action="store_true", help="skip migrate and seed_demo")
    parser.add_argument("--procfile", default=str(BASE_DIR / "Procfile"))
    args = parser.parse_args(argv)
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    port = os.environ.get("PORT", "8000")
    env = {
        **os.environ,
        "PORT": port,
        "TANDEM_DATA_DIR": str(directory),
        "PYTHONUNBUFFERED": "1",
        MARKER: f"{directory}:{os.getpid()}",
    }
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")

    stop = threading.Event()
    received: list[int] = []

    def stop_setup(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop_setup)
    if killed := kill_leftovers(directory):
        print(f"Stopped {killed} processes left by an earlier `make run` on {directory}.", flush=True)
    ensure_servers(directory)  # explicit: starts them even after `make stop`
    if not args.no_setup and not _setup(env, stop):
        return 128 + received[0]
    if stop.is_set():
        return 128 + received[0]

    print(
        f"""
  Tandem is starting on http://127.0.0.1:{port}/  (web, Celery worker and beat)
  Sign in as owner@demo.test, manager@demo.test, finance@demo.test or partner@demo.test
  with the password tandem-demo. A process that dies is restarted; Ctrl-C stops them all,
  `make stop` stops the embedded PostgreSQL and Redis.
""",
        flush=True,
    )
    supervisor = Supervisor(read_procfile(Path(args.procfile)), env, directory)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, supervisor._ask_to_stop)
    if received:  # a stop that came before the supervisor's own handlers is not lost
        supervisor.stopping = received[0]
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
