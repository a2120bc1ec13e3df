"""The ingest bench's machinery: the COPY baseline it is measured against, and the API server and
Celery worker processes it starts, stops and watches (CPU time, peak memory) through /proc.
Not a benchmark of its own: `python -m tests.bench` skips *_support modules."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]


# --- Baseline: COPY ---------------------------------------------------------------------------------


def copy_baseline(workspace_id: int, events: list[dict[str, Any]]) -> float:
    """Seconds to COPY the inbox rows of `events` into a fresh table shaped like the inbox."""
    from decimal import Decimal

    from django.db import connection

    from attribution.inbox import IncomingEvent

    now = datetime.now(UTC)
    buffer = io.StringIO()
    for e in events:
        payload = IncomingEvent(
            kind="sale",
            event_id=e["event_id"],
            customer_external_id=e["customer_external_id"],
            amount=Decimal(e["amount"]),
            currency=e["currency"],
            click_id=e.get("click_id"),
            occurred_at=datetime.fromisoformat(e["occurred_at"]),
        ).to_payload(received_at=now)
        text = json.dumps(payload, separators=(",", ":")).replace("\\", "\\\\")
        buffer.write(
            f"{workspace_id}\t{e['event_id']}\tsale\tapi\t{text}\t\t\t{e['customer_external_id']}\t"
            f"received\t\t\t0\t{now.isoformat()}\n"
        )
    data = buffer.getvalue().encode()
    columns = (
        "workspace_id, event_id, kind, source, payload, related_event_id, processor_ref, customer_external_id, "
        "status, reason, reason_code, attempts, received_at"
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_inbox")
        cursor.execute("CREATE TABLE bench_copy_inbox (LIKE attribution_inboundevent INCLUDING ALL)")
    raw = connection.connection
    started = time.perf_counter()
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY bench_copy_inbox ({columns}) FROM STDIN") as copy:
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])
    raw.commit()
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_copy_inbox")
        assert cursor.fetchone()[0] == len(events)
        cursor.execute("DROP TABLE bench_copy_inbox")
    return elapsed


# --- Processes ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def start_worker(env: dict[str, str], log: Path, *, concurrency: int) -> subprocess.Popen:
    return start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
            "--hostname",
            f"ingest-{os.getpid()}@%h",
        ],
        env,
        log,
    )


def start_server(env: dict[str, str], log: Path, *, port: int, workers: int) -> subprocess.Popen:
    granian = Path(sys.executable).with_name("granian")
    return start(
        [
            str(granian),
            "--interface",
            "wsgi",
            "--workers",
            str(workers),
            "--blocking-threads",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "config.wsgi:application",
        ],
        env,
        log,
    )


def stop(process: subprocess.Popen) -> None:
    try:
        # The main process only: Celery's warm shutdown stops its pool itself.
        process.terminate()
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def wait_for(condition: Any, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def serving(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        todo.extend(int(c) for c in children)
    return pids


def cpu_seconds(pids: list[int], *, children: bool = False) -> float:
    """User + system CPU time of these processes (and, with `children`, of their exited children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state is field 3, so utime/stime/cutime/cstime (14-17) are at 11-14 here.
        total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return total / tick


def postmaster_pid() -> int | None:
    """The local PostgreSQL server's main process, when the bench's database is on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None  # a server elsewhere


def postgres_cpu_seconds(postmaster: int | None) -> float:
    return cpu_seconds(process_tree(postmaster), children=True) if postmaster else 0.0


def peak_rss_mb(pids: list[int]) -> float:
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024
