"""`make bench BENCH=ingest`: a million sales through the API to the last commission, against a plain COPY.

What is measured, on this machine's cores, everything real:

  (a) baseline  COPY of the same inbox rows (same JSON payloads) into a table of the inbox's shape
                (its indexes and constraints included): how fast PostgreSQL alone takes the rows in.
  (b) ingest    EVENTS sale events (CUSTOMERS customers of PARTNERS partners; each customer's first sale
                carries its click id, the rest only the customer) POSTed as 10,000-event bodies to
                /api/v1/events/batch on granian (WSGI), processed by a real Celery worker; timed from
                the first request to the moment no event is left unprocessed, i.e. the last commission
                written.

Printed and written to .bench/ingest.json: events, events_per_s, copy_rows_per_s, ratio
(events_per_s / copy_rows_per_s), worker_peak_rss_mb (the largest Celery process, by VmHWM), lost
(sales without their conversion and commission) and duplicated (conversions, commissions or
ledger entries counted twice), plus the phases' timings.

Environment: EVENTS (default 1,000,000; e.g. EVENTS=20000 for a quick run), BENCH_SERVER_WORKERS
(granian, default 1), BENCH_WORKER_CONCURRENCY (Celery prefork, default: one process per CPU, Celery's own default), BENCH_CLIENTS (parallel
connections, default 2). The bench gets a fresh database of its own (`<name>_bench_ingest`) on the
bench's embedded PostgreSQL under .data/bench, or on DATABASE_URL's server when that is set.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from tests.bench.ingest_support import (
    BASE_DIR,
    copy_baseline,
    cpu_seconds,
    free_port,
    peak_rss_mb,
    postgres_cpu_seconds,
    postmaster_pid,
    process_tree,
    serving,
    start_server,
    start_worker,
    stop,
    wait_for,
)

EVENTS = int(os.environ.get("EVENTS", "1000000"))
CUSTOMERS = max(10, min(10_000, EVENTS // 100))
PARTNERS = max(1, min(500, CUSTOMERS // 20))
BATCH = 10_000
SERVER_WORKERS = int(os.environ.get("BENCH_SERVER_WORKERS", "1"))
# One process per CPU: the worker and PostgreSQL share the cores, and a process more only adds
# backends contending for PostgreSQL's locks (measured here: 2 processes gave 8-10% more than 3).
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", str(os.cpu_count() or 2)))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "2"))
STALL_SECONDS = 300
DB_SUFFIX = "_bench_ingest"


# --- Environment ---------------------------------------------------------------------------------


def _database_url(user: str, password: str | None, host: str, port: str | int | None, name: str) -> str:
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    if host.startswith("/"):
        # A unix-socket directory goes in the path; django-environ splits it off the name.
        return f"postgres://{credentials}@/" + quote(f"{host}/{name}", safe="")
    return f"postgres://{credentials}@{host}{f':{port}' if port else ''}/{quote(name, safe='')}"


def fresh_database() -> None:
    """Point this process (and the server and worker it starts) at a new, empty database."""
    import psycopg

    os.environ.setdefault("TANDEM_DATA_DIR", str(BASE_DIR / ".data" / "bench"))
    if "DATABASE_URL" in os.environ:
        import environ

        base = environ.Env.db_url_config(os.environ["DATABASE_URL"])
        user, password, host, port = base["USER"], base.get("PASSWORD") or None, base["HOST"], base.get("PORT")
        name = base["NAME"] + DB_SUFFIX
    else:
        from config.embedded import postgres_database

        base = postgres_database(Path(os.environ["TANDEM_DATA_DIR"]) / "postgres")
        user, password, host, port, name = base["USER"], None, base["HOST"], None, base["NAME"] + DB_SUFFIX
    admin = {"host": host, "user": user, "dbname": "postgres", "autocommit": True}
    if password:
        admin["password"] = password
    if port:
        admin["port"] = int(port)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = _database_url(user, password, host, port, name)


def configure_environment() -> dict[str, str]:
    fresh_database()
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    # A fresh database reuses workspace ids: a cache of its own, so that nothing a previous run left
    # under the same ids (a partner-email burst's start, a rate limit) applies to this one.
    os.environ["CACHE_KEY_PREFIX"] = f"bench-ingest-{time.time_ns()}"
    return dict(os.environ)


# --- Data ------------------------------------------------------------------------------------------


def prepare() -> tuple[Any, str, list[str]]:
    """The workspace, its API key, partners, links and one click per customer. Returns the click ids."""
    from accounts.services import add_domain, create_workspace
    from attribution.rules import ensure_default_reward_rule
    from partners.models import Partner
    from partners.services import ensure_default_program
    from referrals.models import Click, Link

    created = create_workspace(
        slug="bench-ingest", name="Bench ingest", owner_email="bench@bench.test", with_api_key=True
    )
    workspace = created.workspace
    add_domain(workspace=workspace, domain="shop.bench.test", actor=None, actor_label="bench", verified=True)
    program = ensure_default_program(workspace=workspace)
    ensure_default_reward_rule(program)
    partners = Partner.objects.bulk_create(
        [
            Partner(workspace=workspace, program=program, name=f"Partner {i}", email=f"p{i}@bench.test")
            for i in range(PARTNERS)
        ]
    )
    links = Link.objects.bulk_create(
        [
            Link(
                workspace=workspace,
                program=program,
                partner=p,
                code=f"bi{i}x{os.getpid()}",
                destination_url="https://shop.bench.test/",
            )
            for i, p in enumerate(partners)
        ]
    )
    clicked_at = datetime.now(UTC) - timedelta(days=301)
    click_ids = [f"benchclick{i:010d}" for i in range(CUSTOMERS)]
    Click.objects.bulk_create(
        [
            Click(
                workspace=workspace,
                link=links[i % len(links)],
                partner_id=links[i % len(links)].partner_id,
                click_id=click_ids[i],
                clicked_at=clicked_at,
                ip_hash=f"{i:064x}",
                visitor_hash=f"{i:064x}",
            )
            for i in range(CUSTOMERS)
        ],
        batch_size=5000,
    )
    return workspace, created.api_key or "", click_ids


def make_events(click_ids: list[str]) -> list[dict[str, Any]]:
    """Round r is one sale of every customer, in a shuffled order; a customer's first sale names its click."""
    rng = random.Random(1)
    base = datetime.now(UTC) - timedelta(days=300)
    rounds = -(-EVENTS // CUSTOMERS)
    amounts = [f"{rng.choice((19, 29, 49, 99, 249))}.{rng.randrange(100):02d}" for _ in range(CUSTOMERS)]
    events: list[dict[str, Any]] = []
    for r in range(rounds):
        order = list(range(CUSTOMERS))
        rng.shuffle(order)
        at = (base + timedelta(days=r * 290 / rounds)).isoformat()
        for c in order:
            if len(events) == EVENTS:
                break
            event = {
                "type": "sale",
                "event_id": f"s{r}-{c}",
                "customer_external_id": f"cust{c}",
                "amount": amounts[c],
                "currency": "USD",
                "occurred_at": at,
            }
            if r == 0:
                event["click_id"] = click_ids[c]
            events.append(event)
    return events


# --- The run ------------------------------------------------------------------------------------------


def post_batches(port: int, key: str, bodies: list[bytes]) -> dict[str, int]:
    counts = {"accepted": 0, "duplicate": 0, "errors": 0, "http_errors": 0}
    lock = threading.Lock()
    local = threading.local()

    def send(body: bytes) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request(
            "POST",
            "/api/v1/events/batch",
            body=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        answer = response.read()
        with lock:
            if response.status not in (200, 202):
                counts["http_errors"] += 1
                print(f"  batch answered {response.status}: {answer[:300]!r}", flush=True)
                return
            parsed = json.loads(answer)
            for result in parsed["results"]:
                counts[result["status"]] += 1
            counts["errors"] += len(parsed["errors"])

    # The first body (every customer's first sale, with its click) goes alone, as a tenant's leads
    # would: sent in parallel with later ones it could arrive after them, and a sale that reaches
    # Tandem before its customer is anyone's referral is rightly unattributed.
    send(bodies[0])
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(send, bodies[1:]))
    return counts


def first_pending(workspace_id: int, floor: int) -> int | None:
    """The smallest id of an event still unprocessed, at or above `floor` (the answer of the poll
    before), or None when every event is processed.

    Counting the pending events instead would read every inbox entry the partial indexes still
    hold (processed ones stay there until VACUUM), seconds of a core per count on the cores the
    run is measured on. This walks the primary key from the last answer, stopping at the first
    pending event: each poll reads only the events processed since the one before. All events
    are in the inbox before polling starts, so none can appear below the floor.
    """
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        # Only the primary key's order serves: no planner estimate may turn it into a sort.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "SELECT id FROM (SELECT id, workspace_id, status FROM attribution_inboundevent WHERE id >= %s "
            "ORDER BY id OFFSET 0) AS event WHERE workspace_id = %s AND status = 'received' LIMIT 1",
            [floor, workspace_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def totals(workspace_id: int) -> dict[str, int]:
    from django.db import connection

    queries = {
        "received": "SELECT count(*) FROM attribution_inboundevent WHERE workspace_id = %s",
        "attributed": "SELECT count(*) FROM attribution_inboundevent WHERE workspace_id = %s AND status = 'attributed'",
        "unattributed": "SELECT count(*) FROM attribution_inboundevent WHERE workspace_id = %s AND status <> 'attributed'",
        "conversions": "SELECT count(*) FROM attribution_conversion WHERE workspace_id = %s AND kind = 'sale'",
        "conversion_event_ids": "SELECT count(DISTINCT event_id) FROM attribution_conversion WHERE workspace_id = %s",
        "commissions": "SELECT count(*) FROM attribution_commission WHERE workspace_id = %s",
        "commission_conversions": "SELECT count(DISTINCT conversion_id) FROM attribution_commission WHERE workspace_id = %s",
        "ledger_entries": "SELECT count(*) FROM attribution_ledgerentry WHERE workspace_id = %s",
        "ledger_references": "SELECT count(DISTINCT reference) FROM attribution_ledgerentry WHERE workspace_id = %s",
    }
    out = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, [workspace_id])
            out[name] = cursor.fetchone()[0]
    return out


def main() -> int:
    env = configure_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import close_old_connections

    from attribution.ledger import verify_chain
    from config.celery import app

    print(
        f"ingest: {EVENTS:,} sale events, {CUSTOMERS:,} customers, {PARTNERS:,} partners; database "
        f"{urlsplit(env['DATABASE_URL']).path.rsplit('/', 1)[-1] or env['DATABASE_URL'].rsplit('%2F', 1)[-1]}",
        flush=True,
    )
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    workspace, key, click_ids = prepare()
    events = make_events(click_ids)
    bodies = [
        json.dumps({"events": events[i : i + BATCH]}, separators=(",", ":")).encode()
        for i in range(0, len(events), BATCH)
    ]
    print(
        f"  set up in {time.perf_counter() - t:.1f} s ({len(bodies)} request bodies of up to {BATCH:,} events)",
        flush=True,
    )

    copy_seconds = copy_baseline(workspace.pk, events)
    copy_rows_per_s = len(events) / copy_seconds
    print(
        f"  baseline: COPY of {len(events):,} inbox rows in {copy_seconds:.2f} s = {copy_rows_per_s:,.0f} rows/s",
        flush=True,
    )
    close_old_connections()

    app.control.purge()  # tasks a killed earlier run left in the bench's broker
    logs = Path(os.environ["TANDEM_DATA_DIR"]) / "bench-ingest"
    logs.mkdir(parents=True, exist_ok=True)
    worker_log, server_log = logs / "worker.log", logs / "server.log"
    worker = start_worker(env, worker_log, concurrency=WORKER_CONCURRENCY)
    port = free_port()
    server = start_server(env, server_log, port=port, workers=SERVER_WORKERS)
    try:
        wait_for(
            lambda: "ready." in worker_log.read_text() or worker.poll() is not None, 90, "The Celery worker", worker_log
        )
        if worker.poll() is not None:
            raise SystemExit(f"The Celery worker exited:\n{worker_log.read_text()[-4000:]}")
        wait_for(lambda: serving(port), 90, "granian", server_log)

        postmaster = postmaster_pid()
        # What the processes used before the clock starts (imports, start-up) is not the run's.
        cpu_before = {
            "api": cpu_seconds(process_tree(server.pid)),
            "worker": cpu_seconds(process_tree(worker.pid)),
            "postgres": postgres_cpu_seconds(postmaster),
        }
        started = time.perf_counter()
        counts = post_batches(port, key, bodies)
        sent = time.perf_counter()
        print(
            f"  sent in {sent - started:.1f} s ({len(events) / (sent - started):,.0f} events/s accepted): {counts}",
            flush=True,
        )
        floor, last_change, rss = 0, time.monotonic(), 0.0
        while True:
            first = first_pending(workspace.pk, floor)
            rss = max(rss, peak_rss_mb(process_tree(worker.pid)))
            if first is None:
                break
            if first != floor:
                floor, last_change = first, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                print(f"  no progress for {STALL_SECONDS} s (event {first} still unprocessed); giving up", flush=True)
                break
            time.sleep(0.1)
        done = time.perf_counter()
        rss = max(rss, peak_rss_mb(process_tree(worker.pid)))
        # Where the cores went: the API server, the Celery worker and PostgreSQL (this process's own
        # polling included, a small share).
        cpu = {
            "api": cpu_seconds(process_tree(server.pid)),
            "worker": cpu_seconds(process_tree(worker.pid)),
            "postgres": postgres_cpu_seconds(postmaster),
        }
        cpu = {name: value - cpu_before[name] for name, value in cpu.items()}
    finally:
        stop(server)
        stop(worker)

    elapsed = done - started
    found = totals(workspace.pk)
    lost = len(events) - found["conversions"]
    duplicated = (
        (found["conversions"] - found["conversion_event_ids"])
        + (found["commissions"] - found["commission_conversions"])
        + (found["ledger_entries"] - found["ledger_references"])
    )
    checked, broken = verify_chain(workspace)
    events_per_s = len(events) / elapsed
    result = {
        "events": len(events),
        "events_per_s": round(events_per_s, 1),
        "copy_rows_per_s": round(copy_rows_per_s, 1),
        "ratio": round(events_per_s / copy_rows_per_s, 4),
        "worker_peak_rss_mb": round(rss, 1),
        "lost": lost,
        "duplicated": duplicated,
        "seconds": round(elapsed, 2),
        "accept_seconds": round(sent - started, 2),
        "copy_seconds": round(copy_seconds, 2),
        "customers": CUSTOMERS,
        "partners": PARTNERS,
        "server_workers": SERVER_WORKERS,
        "worker_concurrency": WORKER_CONCURRENCY,
        "cpus": os.cpu_count(),
        "totals": found,
        "cpu_seconds": {name: round(value, 1) for name, value in cpu.items()},
        "ledger_intact": broken is None and checked == found["ledger_entries"],
    }
    print(f"  ingest: {len(events):,} events to the last commission in {elapsed:.1f} s = {events_per_s:,.0f} events/s")
    print(
        f"  ratio to COPY: {result['ratio']:.3f}; worker peak RSS {rss:.0f} MB; lost {lost}, duplicated {duplicated}; "
        f"ledger {'intact' if result['ledger_intact'] else 'BROKEN'} ({checked:,} entries)"
    )
    print(
        "  CPU seconds: "
        + ", ".join(f"{name} {value:,.0f}" for name, value in cpu.items())
        + f" ({sum(cpu.values()) / elapsed:.2f} of {os.cpu_count()} cores busy)"
    )
    out = BASE_DIR / ".bench" / "ingest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"  wrote {out.relative_to(BASE_DIR)}")
    return 1 if lost or duplicated or not result["ledger_intact"] else 0


if __name__ == "__main__":
    sys.exit(main())
