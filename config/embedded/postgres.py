"""The embedded PostgreSQL: started and stopped with its own pg_ctl, under the data directory's lock."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from config.embedded.common import (
    _SOCKET_PATH_MAX,
    DATABASE_NAME,
    PG_SYSTEM_USER,
    START_TIMEOUT,
    STOP_TIMEOUT,
    _daemon_env,
    _file_lock,
    _may_start,
    _pids_of,
    _process_name,
    _wait_until_gone,
)


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
        return subprocess.run(
            [str(_pg_bin() / args[0]), *args[1:]],
            user=user,
            stdout=out,
            stderr=out,
            text=True,
            timeout=timeout,
            start_new_session=True,
            check=False,
            env=_daemon_env(),
        )


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


def _postmasters(pgdata: Path) -> list[int]:
    """Postmasters running on pgdata, whatever postmaster.pid says (its backends' titles name no -D)."""
    return _pids_of("postgres", f" -D {pgdata} ")


def _kill_postmaster(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGINT)  # fast shutdown
    except ProcessLookupError:
        return
    if not _wait_until_gone(pid, "postgres", STOP_TIMEOUT):
        try:
            os.kill(pid, signal.SIGKILL)  # the next start recovers from the WAL
        except ProcessLookupError:
            return
        _wait_until_gone(pid, "postgres", 5)


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
    result = _pg_run(
        ["initdb", "-D", str(scratch), "--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
        user,
        START_TIMEOUT,
        log,
    )
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
        result = _pg_run(
            [
                "pg_ctl",
                "-D",
                str(pgdata),
                "-w",
                "-t",
                "30",
                "-l",
                str(log),
                "-o",
                f"-h '' -k {socket_dir} {TUNING}",
                "start",
            ],
            user,
            START_TIMEOUT,
            ctl_log,
        )
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


# An inbox import writes gigabytes of WAL: with the default 1 GB between checkpoints they came every
# 10-30 s, and each one makes the next write of every page a full-page image (the 1M ingest bench:
# PostgreSQL's CPU 119 s with the defaults, 109 s with these). docker-compose.yml gives its server the same.
TUNING = "-c max_wal_size=4GB -c checkpoint_timeout=15min -c shared_buffers=512MB"


def ensure_postgres(pgdata: Path, *, explicit: bool | None = None) -> Path:
    """Start PostgreSQL on pgdata unless it runs; returns the directory of its socket.

    explicit=False (a supervisor's watch) never starts it after `make stop` (StoppedOnPurpose).
    """
    pgdata = pgdata.resolve()
    with _file_lock(pgdata.parent / "postgres.lock"):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            running = _running_postmaster(pgdata)
            if running is None:
                # No pid file naming a live postmaster: one may still be starting (its starter killed
                # before it wrote postmaster.pid) or have lost its pid file. Wait for it, then stop it.
                orphans = _postmasters(pgdata)
                if not orphans:
                    break
                if time.monotonic() > deadline:
                    for pid in orphans:
                        _kill_postmaster(pid)
                    break
                time.sleep(0.1)
                continue
            pid, socket_dir, status = running
            if status == "ready" and _answers(socket_dir):
                return socket_dir
            # A server whose socket file is gone (removed by hand, or by an older server's exit at the
            # same path) can never be reached: restart it like a wedged one.
            lost_socket = status == "ready" and not (socket_dir / ".s.PGSQL.5432").exists()
            if status == "stopping" or lost_socket or time.monotonic() > deadline:
                # Shutting down (a `make stop`), or wedged: let it finish, then start afresh.
                _kill_postmaster(pid)
                continue  # and make sure no other postmaster is left on pgdata
            time.sleep(0.1)  # starting, or recovering after a crash
        _may_start(pgdata.parent, explicit)
        return _start_postgres(pgdata)


def postgres_database(data_dir: Path, *, explicit: bool | None = None) -> dict[str, str]:
    """Start (or reuse) the embedded PostgreSQL and return Django settings for Tandem's database."""
    import psycopg

    socket_dir = ensure_postgres(data_dir, explicit=explicit)
    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True, connect_timeout=10
    ) as conn:
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
        pids = sorted({*([running[0]] if running else []), *_postmasters(pgdata)})
        for pid in pids:
            _kill_postmaster(pid)
        return bool(pids)


# --- Redis -----------------------------------------------------------------------------------------
