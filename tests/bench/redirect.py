"""`make bench BENCH=redirect`: the short-link redirect against a bare Django 302, served as in production.

Both endpoints are served by the same granian (WSGI, 2 workers, DEBUG off), hit by the same wrk at
32 connections for the same time, one after the other:

  (a) baseline  GET /bench/302      a view that only returns a 302 (TANDEM_BENCH_ENDPOINTS=true),
                                    routed like any page of the app (full middleware stack)
  (b) redirect  GET /r/<code>       the real redirect: cache lookup and click buffered in Redis, in
                                    one round trip; answered by referrals.middleware.ShortLinkMiddleware
                                    right after SecurityMiddleware, as in production

The drain rate is PostgreSQL-bound (about 20 µs per click here, mostly the COPY into
referrals_click and its five indexes; uniqueness is one lookup per visitor and link of a batch,
and every click of this bench is the same visitor's), so it is a smaller multiple of the arrival
rate the faster the redirect gets.

Then the click buffer is drained with the flusher and the stored clicks counted. `clicks_sent` is
the number of 302 answers wrk received for (b). So that no request still in flight when wrk stops
is left uncounted, wrk's Lua script sends the last second of each run to /bench/tail (a 204 that
records nothing), in both runs alike; requests/s are the 302s over the main phase, while the
latency percentiles (wrk's own) include those few tail requests. Results go to .bench/redirect.json.

Environment: BENCH_SECONDS (default 15) per measured run; the bench uses its own embedded
PostgreSQL and Redis under .data/bench unless DATABASE_URL / REDIS_URL are set.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]
CONNECTIONS = 32
THREADS = 2
WORKERS = 2
# Python threads per worker (BENCH_BLOCKING_THREADS; 0 keeps granian's WSGI default, backpressure/2
# = 256 here). A few threads let one request's Redis round trip overlap another's Python work; many
# more only queue on the GIL. Both endpoints get the same server either way.
BLOCKING_THREADS = int(os.environ.get("BENCH_BLOCKING_THREADS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
WARMUP_SECONDS = 3.0
TAIL_SECONDS = 1.0
CODE = "bench-redirect"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

# Sends `path` for the main phase, then `tail`; counts 302 answers; prints one JSON line at the end.
# The clock is CLOCK_MONOTONIC through LuaJIT's FFI (os.time() only has whole seconds).
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } tandem_timespec;
int clock_gettime(int clk_id, tandem_timespec *tp);
]]
local ts = ffi.new("tandem_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  main_request = wrk.format("GET", args[1], {["User-Agent"] = args[4]})
  tail_request = wrk.format("GET", args[2], {["User-Agent"] = args[4]})
  switch_at = now() + tonumber(args[3])
  found, other = 0, 0
end
function request()
  if now() < switch_at then return main_request end
  return tail_request
end
function response(status, headers, body)
  if status == 302 then found = found + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local f, o = 0, 0
  for _, t in ipairs(threads) do f = f + t:get("found"); o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"status_302": %d, "other": %d, "requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    f, o, summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing; installing Debian's package (apt-get install -y wrk)...", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run([*sudo, "apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-q"], stdout=subprocess.DEVNULL)
        subprocess.run(install, check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("Could not install wrk; install it (apt-get install wrk) and run again.")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure_environment() -> dict[str, str]:
    os.environ.setdefault("TANDEM_DATA_DIR", str(BASE_DIR / ".data" / "bench"))
    os.environ["DEBUG"] = "false"
    os.environ["TANDEM_BENCH_ENDPOINTS"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return dict(os.environ)


def prepare_link() -> Any:
    """The bench workspace, its verified domain, a partner and the link under test (idempotent)."""
    from accounts.services import add_domain, create_workspace
    from partners.models import Partner, Program
    from referrals import services
    from referrals.models import Link

    workspace = create_workspace(slug="bench", name="Bench", owner_email="bench@bench.test").workspace
    add_domain(workspace=workspace, domain="shop.bench.test", actor=None, actor_label="bench", verified=True)
    program, _ = Program.objects.get_or_create(workspace=workspace, slug="bench", defaults={"name": "Bench"})
    partner, _ = Partner.objects.get_or_create(
        workspace=workspace, program=program, email="partner@bench.test", defaults={"name": "Bench Partner"}
    )
    link = Link.objects.filter(code=CODE).first()
    if link is None:
        link = services.create_link(
            workspace=workspace,
            partner=partner,
            code=CODE,
            destination_url="https://shop.bench.test/landing?plan=pro",
            utm={"utm_source": "bench"},
        ).link
    return link


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    granian = Path(sys.executable).with_name("granian")
    threads = ["--blocking-threads", str(BLOCKING_THREADS)] if BLOCKING_THREADS else []  # 0: granian's default
    command = [
        str(granian),
        "--interface",
        "wsgi",
        "--workers",
        str(WORKERS),
        *threads,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "config.wsgi:application",
    ]
    return subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"granian exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"granian did not answer /healthz within 60 s:\n{log.read_text()}")


def stop_server(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait()


def run_wrk(wrk: str, script: Path, port: int, path: str, seconds: float) -> dict[str, Any]:
    main_seconds = seconds - TAIL_SECONDS
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        path,
        "/bench/tail",
        str(main_seconds),
        BROWSER,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    result = json.loads(line.removeprefix("WRK_JSON "))
    # Throughput of the main phase only: its answers over its length (the tail's 204s are left out).
    result["rps"] = result["status_302"] / main_seconds
    return result


def main() -> int:
    env = configure_environment()
    wrk = ensure_wrk()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import close_old_connections

    from referrals.clicks.flusher import buffered_count, flush_clicks
    from referrals.models import Click

    call_command("migrate", verbosity=0)
    link = prepare_link()
    flush_clicks()  # leftovers of an earlier run

    port = free_port()
    log = Path(tempfile.gettempdir()) / f"tandem-bench-granian-{port}.log"
    script = Path(tempfile.gettempdir()) / "tandem-bench-redirect.lua"
    script.write_text(WRK_SCRIPT)
    server = start_server(port, env, log)
    try:
        wait_until_serving(port, server, log)
        print(
            f"granian (wsgi, {WORKERS} workers x {BLOCKING_THREADS} threads, DEBUG off) on 127.0.0.1:{port}; wrk -t{THREADS} -c{CONNECTIONS}, "
            f"{SECONDS:g} s per run",
            flush=True,
        )
        run_wrk(wrk, script, port, "/bench/302", WARMUP_SECONDS)
        run_wrk(wrk, script, port, f"/r/{CODE}", WARMUP_SECONDS)
        flush_clicks()
        close_old_connections()
        stored_before = Click.objects.filter(link=link).count()
        baseline = run_wrk(wrk, script, port, "/bench/302", SECONDS)
        redirect = run_wrk(wrk, script, port, f"/r/{CODE}", SECONDS)
    finally:
        stop_server(server)

    buffered = buffered_count()
    started = time.monotonic()
    drained = flush_clicks()
    drain_seconds = time.monotonic() - started
    close_old_connections()
    stored = Click.objects.filter(link=link).count() - stored_before

    arrival_rate = redirect["rps"]  # every 302 of the redirect run is a click arriving
    figures = {
        "baseline_rps": round(baseline["rps"], 1),
        "redirect_rps": round(redirect["rps"], 1),
        "ratio": round(redirect["rps"] / baseline["rps"], 3),
        "baseline_p50_ms": baseline["p50_us"] / 1000,
        "baseline_p99_ms": baseline["p99_us"] / 1000,
        "redirect_p50_ms": redirect["p50_us"] / 1000,
        "redirect_p99_ms": redirect["p99_us"] / 1000,
        "clicks_sent": redirect["status_302"],
        "clicks_stored": stored,
        "clicks_buffered_before_drain": buffered,
        "arrival_rate_cps": round(arrival_rate, 1),
        "drain_rate_cps": round(drained.read / drain_seconds, 1) if drain_seconds else None,
        "drain_seconds": round(drain_seconds, 3),
        "errors": {"baseline": baseline["errors"], "redirect": redirect["errors"]},
        "connections": CONNECTIONS,
        "seconds": SECONDS,
        "server": f"granian wsgi, {WORKERS} workers x {BLOCKING_THREADS} threads",
    }
    goals = {
        "redirect_rps >= 0.5 * baseline_rps": figures["ratio"] >= 0.5,
        "redirect_p99_ms < 20": figures["redirect_p99_ms"] < 20,
        "clicks_stored == clicks_sent": stored == redirect["status_302"],
        "drain_rate_cps >= 7 * arrival_rate_cps": (figures["drain_rate_cps"] or 0) >= 7 * arrival_rate,
    }
    figures["drain_multiple"] = round((figures["drain_rate_cps"] or 0) / arrival_rate, 2) if arrival_rate else None
    figures["goals"] = goals

    print(
        f"  (a) baseline /bench/302  {figures['baseline_rps']:>9,.0f} req/s   p50 {figures['baseline_p50_ms']:.2f} ms   p99 {figures['baseline_p99_ms']:.2f} ms"
    )
    print(
        f"  (b) redirect /r/<code>   {figures['redirect_rps']:>9,.0f} req/s   p50 {figures['redirect_p50_ms']:.2f} ms   p99 {figures['redirect_p99_ms']:.2f} ms"
    )
    print(f"  ratio b/a                {figures['ratio']:.3f}")
    print(f"  clicks sent {figures['clicks_sent']:,}, stored {stored:,} (buffered before the drain: {buffered:,})")
    print(
        f"  arrival {figures['arrival_rate_cps']:,.0f} clicks/s; drain {figures['drain_rate_cps'] or 0:,.0f} clicks/s "
        f"({drained.read:,} in {drain_seconds:.2f} s) = {figures['drain_multiple']}x the arrival rate"
    )
    for goal, met in goals.items():
        print(f"  [{'met' if met else 'MISSED'}] {goal}")

    out = BASE_DIR / ".bench"
    out.mkdir(exist_ok=True)
    (out / "redirect.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"  written to {out / 'redirect.json'}")
    # Slow is reported; a lost or duplicated click is a failure.
    return 0 if goals["clicks_stored == clicks_sent"] else 1
