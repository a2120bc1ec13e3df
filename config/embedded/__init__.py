"""Embedded PostgreSQL and Redis for development and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Both servers live under one data directory,
outlive the process that started them, and are shared by every process pointed at that directory
(web, worker, beat, a second `manage.py`, a second `make run`): the first caller starts them and
the rest connect.

The lifecycle is ours, not pgserver's (whose `.handle_pids.json`, rewritten by every process's
exit hook, was left empty or half-written by a Ctrl-C and broke the next start). Only the servers'
own files say whether they run: PostgreSQL's postmaster.pid and Redis's pid file, each checked
against a live process of the right program. Starting and stopping happen under an fcntl lock per
server (released by the kernel when its holder dies, even by kill -9), and whatever a killed
server left behind (a pid file naming a dead process, a socket nobody listens on) is removed
before the next start. pgserver is used only for its PostgreSQL binaries.

A server is started only under its lock and only when no live one exists: neither the process its
pid file names nor any process of that program running on this data directory (found in /proc by
its command line, so a server whose pid file is not written yet, because its starter was killed
mid-start, still counts), and only after waiting for a live one that does not answer yet.

`make stop` (stop_all) leaves a `stopped` marker in the data directory. While it is there, the
servers are started again only by an explicit start (`make run`, or a `manage.py` run on its own),
which removes it; the processes of a supervisor (marked by TANDEM_DEVSTACK in their environment)
and the supervisor's watch never start them (StoppedOnPurpose), so a `make stop` is not undone by a
`make run` still running, nor by one of its processes restarting.
"""

from __future__ import annotations

from pathlib import Path

from config.embedded.common import DATABASE_NAME, STOPPED_MARKER, SUPERVISED, StoppedOnPurpose
from config.embedded.postgres import ensure_postgres, postgres_database, stop_postgres
from config.embedded.redis import redis_url, stop_redis

__all__ = [
    "DATABASE_NAME",
    "STOPPED_MARKER",
    "SUPERVISED",
    "StoppedOnPurpose",
    "ensure_postgres",
    "postgres_database",
    "redis_url",
    "stop_all",
    "stop_postgres",
    "stop_redis",
]


def stop_all(data_dir: Path) -> None:
    """Stop both embedded servers of a data directory (used by `make stop`) and wait for them to exit.

    The `stopped` marker comes first: from then on no supervisor, and none of its processes, starts
    them again (see StoppedOnPurpose); `make run` or a `manage.py` of its own does.
    """
    if data_dir.exists():
        (data_dir / STOPPED_MARKER).touch()
    stop_redis(data_dir / "redis")
    stop_postgres(data_dir / "postgres")
    # pgserver's client list, from data directories it started: meaningless now.
    (data_dir / "postgres" / ".handle_pids.json").unlink(missing_ok=True)
