"""What the embedded PostgreSQL and Redis share: locks, pid files, live-process checks, the stop marker."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DATABASE_NAME = "tandem"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# The unix user PostgreSQL runs as when we are root (it refuses to run as root); pgserver's choice,
# so data directories it created keep working.
PG_SYSTEM_USER = "pgserver"
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux; keep a margin
STOPPED_MARKER = "stopped"  # in the data directory, written by stop_all (`make stop`)
SUPERVISED = "TANDEM_DEVSTACK"  # config.devstack.MARKER: set in the environment of a supervisor's processes


class StoppedOnPurpose(RuntimeError):
    """`make stop` stopped the servers of this data directory; only an explicit start starts them again."""


def _may_start(data_root: Path, explicit: bool | None) -> None:
    """Called under a server's lock before starting it. explicit=None: explicit unless supervised."""
    if explicit is None:
        explicit = SUPERVISED not in os.environ
    marker = data_root / STOPPED_MARKER
    if not marker.exists():
        return
    if not explicit:
        raise StoppedOnPurpose(f"`make stop` stopped the embedded servers of {data_root}; `make run` starts them again")
    marker.unlink(missing_ok=True)


def _daemon_env() -> dict[str, str]:
    # A daemon outlives whoever started it: it must not carry a supervisor's marker, or the next
    # supervisor would take it for a leftover process of a dead one and kill it.
    return {k: v for k, v in os.environ.items() if k != SUPERVISED}


def _pids_of(program: str, *needles: str) -> list[int]:
    """Live processes running `program` whose command line contains one of `needles` (a data directory, a socket)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(needle in cmdline for needle in needles) and _process_name(int(proc.name)) == program:
            found.append(int(proc.name))
    # Not the server's own children (Redis's background save has its title and program).
    return [pid for pid in found if _process_name(_parent(pid) or 0) != program]


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _process_name(pid: int) -> str | None:
    """The program a live process runs ('postgres', 'redis-server'), or None when there is none.

    A pid file can outlive its process (kill -9), and its pid can be reused by anything: a live
    pid only counts when it is the program we expect. A zombie is no server either.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    name, _, rest = stat.partition("(")[2].rpartition(")")
    if rest.split()[:1] == ["Z"]:
        return None
    return name


def _pid_from(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().splitlines()[0].strip())
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _wait_until_gone(pid: int, name: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not (_process_name(pid) or "").startswith(name):
            return True
        time.sleep(0.05)
    return False


# --- PostgreSQL ------------------------------------------------------------------------------------
