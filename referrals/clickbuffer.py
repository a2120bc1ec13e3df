"""The redirect's hot path and the click buffer between it and PostgreSQL.

`/r/<code>` must answer fast and never lose a click, so it does one Redis round trip: a Lua
script reads the cached link (code -> link, workspace, partner, target URL) and appends the click
to a Redis stream in the same call. PostgreSQL is read only when the cache misses.

The flusher (Celery beat every few seconds, or `manage.py flush_clicks`) reads the stream through a
consumer group, writes each batch with COPY into a temporary table and one
`INSERT … SELECT … ON CONFLICT (click_id) DO NOTHING`, and acknowledges the entries only after the
transaction commits. A flusher killed mid-batch leaves its entries pending; the next one reads
them again (its own pending entries first, then anything idle claimed with XAUTOCLAIM), and the
unique click id makes the second write a no-op. Entries are trimmed from the stream only once
acknowledged, so the stream never drops a click (XADD without MAXLEN).

IP addresses: the redirect turns the address into HMAC-SHA256 digests keyed by a salt derived
from SECRET_KEY, CLICK_IP_SALT and the UTC date, so the raw address never reaches Redis,
PostgreSQL or a log, and yesterday's digests cannot be linked to today's once the day's salt is
gone from memory. `visitor_hash` (IP + user agent) decides uniqueness: a click is unique unless the
same visitor clicked the same link in the previous 24 hours. Because the salt changes at midnight,
each click also carries its visitor digest under yesterday's salt (never stored) so that the
24-hour window holds across midnight.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils.encoding import iri_to_uri

logger = logging.getLogger(__name__)

CACHE_TTL_SECONDS = 3600  # invalidated on change; the TTL only bounds a lost invalidation
MISSING_TTL_SECONDS = 60  # unknown codes are remembered briefly so scanners cannot hammer the database
GROUP = "flusher"
_FLUSH_LOCK_KEY = 0x7A4D_C11C  # pg advisory lock: one flusher writes at a time
USER_AGENT_MAX = 512
REFERRER_MAX = 2000

# Reads the cached link and appends the click in one round trip. Returns nil on a cache miss,
# '' for a code known not to exist, else the target URL as "head<US>tail".
# A stream entry is two fields: l = "link:workspace:partner" ids, d = the visit (see visit_record).
_RESOLVE_AND_RECORD = """
local v = redis.call('HMGET', KEYS[1], 'u', 'l')
if not v[1] then return false end
if v[1] ~= '' and ARGV[1] ~= '' then
  redis.call('XADD', KEYS[2], '*', 'l', v[2], 'd', ARGV[1])
end
return v[1]
"""
SEP = "\x1f"  # ASCII unit separator: cannot occur in an HTTP header value

_client: redis.Redis | None = None
_script: Any = None


def client() -> redis.Redis:
    """One connection pool per process (redis-py resets it in a forked child)."""
    global _client, _script
    if _client is None:
        # Timeouts so a stuck Redis turns into the redirect's database fallback, not a hung visitor.
        _client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True, socket_timeout=2,
                                       socket_connect_timeout=1)
        _script = _client.register_script(_RESOLVE_AND_RECORD)
    return _client


def namespace() -> str:
    """Key prefix, per database: the dev server, each test database and the bench never share keys."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'tandem')}:ref:{settings.DATABASES['default']['NAME']}"


def link_key(code: str) -> str:
    return f"{namespace()}:link:{code}"


def stream_key() -> str:
    return f"{namespace()}:clicks"


# --- Hashing ------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _day_mac(day: date) -> hmac.HMAC:
    # Keyed once per day; each hash then starts from a copy (cheaper than a new HMAC every time).
    material = f"tandem.click-ip:{settings.CLICK_IP_SALT}:{day.isoformat()}".encode()
    salt = hmac.new(settings.SECRET_KEY.encode(), material, hashlib.sha256).digest()
    return hmac.new(salt, digestmod=hashlib.sha256)


def _mac(day: date, message: str) -> str:
    mac = _day_mac(day).copy()
    mac.update(message.encode("utf-8", "surrogateescape"))
    return mac.hexdigest()


def ip_hash(ip: str, day: date) -> str:
    return _mac(day, ip)


def visitor_hash(ip: str, user_agent: str, day: date) -> str:
    return _mac(day, f"{ip}\n{user_agent}")[:32]


def client_ip(meta: dict[str, Any]) -> str:
    """The visitor's address: REMOTE_ADDR, or the one our N trusted proxies saw (CLICK_TRUSTED_PROXIES)."""
    proxies = settings.CLICK_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR", "") or ""


# --- The hot path ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    click_id: str
    at: float
    ip: str
    user_agent: str
    referrer: str


def visit_record(visit: Visit) -> str:
    """The visit as one stream field: click id, time, IP hash, visitor hash today and under
    yesterday's salt, user agent, referrer. The raw IP goes no further than this function."""
    day = datetime.fromtimestamp(visit.at, UTC).date()
    user_agent = visit.user_agent[:USER_AGENT_MAX].replace(SEP, " ")
    return SEP.join((
        visit.click_id,
        f"{visit.at:.6f}",
        ip_hash(visit.ip, day),
        visitor_hash(visit.ip, user_agent, day),
        visitor_hash(visit.ip, user_agent, day - timedelta(days=1)),
        user_agent,
        visit.referrer[:REFERRER_MAX].replace(SEP, " "),
    ))


def stream_entry(link_id: int, workspace_id: int, partner_id: int, visit: Visit) -> dict[str, str]:
    return {"l": f"{link_id}:{workspace_id}:{partner_id}", "d": visit_record(visit)}


_local = threading.local()


def _pack(*args: str) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode("utf-8", "replace")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _run_script(keys: list[str], record: str) -> str | None:
    """EVALSHA on a connection this thread keeps for itself.

    The hot path skips redis-py's pool and command machinery (a lock, a readiness poll and a
    generic packer per call), which cost more than the round trip itself. A command resent after
    a broken connection may record a click twice; both copies carry the same click id, and the
    flusher's ON CONFLICT keeps one.
    """
    connection = getattr(_local, "connection", None)
    if connection is None or _local.pid != os.getpid():
        pool = client().connection_pool
        connection = _local.connection = pool.connection_class(**pool.connection_kwargs)
        _local.pid = os.getpid()
    packed = _pack("EVALSHA", _script.sha, "2", *keys, record)
    for attempt in (1, 2):
        try:
            connection.send_packed_command([packed], check_health=False)
            return connection.read_response()  # type: ignore[no-any-return]
        except redis.exceptions.NoScriptError:
            client().script_load(_RESOLVE_AND_RECORD)  # Redis restarted or flushed its scripts
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()
            if attempt == 2:
                raise
    raise redis.ResponseError("The click script could not be loaded into Redis.")


def resolve_and_record(code: str, visit: Visit | None) -> str | None:
    """The redirect target with the click id in it, recording the click; None for an unknown code.

    `visit` None resolves without recording (HEAD requests).
    """
    if _script is None:
        client()
    record = visit_record(visit) if visit is not None else ""
    keys = [link_key(code), stream_key()]
    found = _run_script(keys, record)
    if found is None:
        found = _fill_cache_and_record(code, keys, record)
    if not found:
        return None
    head, _, tail = found.partition(SEP)
    return f"{head}{visit.click_id if visit else ''}{tail}"


def _load_link(code: str) -> dict[str, Any] | None:
    from referrals.models import Link
    from referrals.validation import UTM_FIELDS, redirect_parts

    # The one unscoped link lookup in Tandem: a short link names no workspace, and its code is
    # unique across all of them. Only an active link resolves.
    row = (
        Link.objects.filter(code=code, archived_at__isnull=True)
        .values("id", "workspace_id", "partner_id", "destination_url", *UTM_FIELDS)
        .first()
    )
    if row is not None:
        head, tail = redirect_parts(row["destination_url"], {field: row[field] for field in UTM_FIELDS})
        # Encoded once here, so each redirect can put the cached target in Location as it is.
        row["target"] = f"{iri_to_uri(head)}{SEP}{iri_to_uri(tail)}"
    return row


def _fill_cache_and_record(code: str, keys: list[str], record: str) -> str:
    row = _load_link(code)
    pipe = client().pipeline(transaction=False)
    pipe.delete(keys[0])
    if row is None:
        pipe.hset(keys[0], mapping={"u": ""})
        pipe.expire(keys[0], MISSING_TTL_SECONDS)
        pipe.execute()
        return ""
    ids = f"{row['id']}:{row['workspace_id']}:{row['partner_id']}"
    pipe.hset(keys[0], mapping={"u": row["target"], "l": ids})
    pipe.expire(keys[0], CACHE_TTL_SECONDS)
    if record:
        pipe.xadd(keys[1], {"l": ids, "d": record})
    pipe.execute()
    return str(row["target"])


def resolve_and_record_directly(code: str, visit: Visit | None) -> str | None:
    """The fallback while Redis is down: resolve from PostgreSQL and write the click at once."""
    row = _load_link(code)
    if row is None:
        return None
    head, _, tail = row["target"].partition(SEP)
    if visit is None:
        return head + tail
    write_batch([_row(stream_entry(row["id"], row["workspace_id"], row["partner_id"], visit))])
    return f"{head}{visit.click_id}{tail}"


def forget_link(code: str) -> None:
    """Drop a cached link now and again after the transaction commits (so no stale read can re-fill it)."""
    key = link_key(code)

    def drop() -> None:
        try:
            client().delete(key)
        except redis.RedisError:
            # Redis being down must not block editing links; the cache entry expires within the hour.
            logger.warning("Could not drop the cached short link %s", code)

    drop()
    transaction.on_commit(drop)


# --- The flusher --------------------------------------------------------------------------------


@dataclass
class FlushResult:
    read: int = 0  # stream entries processed
    stored: int = 0  # new click rows
    skipped: int = 0  # already stored (a re-delivered batch), or their link no longer exists
    malformed: int = 0
    batches: int = 0
    busy: bool = False  # another flusher holds the lock
    seconds: float = 0.0

    def describe(self) -> str:
        if self.busy:
            return "Another flusher is running; nothing done."
        rate = self.read / self.seconds if self.seconds else 0.0
        return (
            f"Flushed {self.read} clicks in {self.batches} batches: {self.stored} stored, {self.skipped} skipped, "
            f"{self.malformed} malformed ({rate:,.0f}/s)."
        )


@lru_cache(maxsize=1)
def _crawler_detect() -> Any:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@lru_cache(maxsize=20_000)
def is_bot(user_agent: str) -> bool:
    # Done here rather than in the redirect: the check costs ~0.1 ms, and user agents repeat a lot.
    if not user_agent.strip():
        return True
    return bool(_crawler_detect().isCrawler(user_agent))


def _ensure_group(r: redis.Redis, key: str) -> None:
    try:
        r.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


_COLUMNS = ("click_id", "link_id", "workspace_id", "clicked_at", "ip_hash", "visitor_hash", "prev_visitor_hash",
            "user_agent", "referrer", "is_bot")


def _row(fields: dict[str, str]) -> tuple[Any, ...]:
    link_id, workspace_id, _partner_id = fields["l"].split(":")
    click_id, at, ip_digest, visitor, previous, user_agent, referrer = fields["d"].split(SEP)
    return (
        click_id[:32],
        int(link_id),
        int(workspace_id),
        datetime.fromtimestamp(float(at), UTC),
        ip_digest[:64],
        visitor[:64],
        previous[:64],
        user_agent[:USER_AGENT_MAX],
        referrer[:REFERRER_MAX],
        is_bot(user_agent),
    )


# A click is unique unless the same visitor (today's digest, or yesterday's across midnight) clicked
# the same link in the 24 hours before it, stored earlier or earlier in this batch. The stored-click
# probe states its bounds only as row comparisons over click_link_visitor's columns, in that
# index's order, so no other index can serve it: with plain `clicked_at` conditions the planner
# could pick another index (by skip scan, too) and read every click of the day for each row when
# its statistics were off, e.g. after one visitor's burst. For the same reason the flush turns
# sequential scans off for its transaction (`SET LOCAL`): a scan "stopping at the first match" looks
# cheap to a planner that believes most clicks are one visitor's.
_EARLIER_CLICK = """
       AND NOT EXISTS (
           SELECT 1 FROM referrals_click c
           WHERE (c.link_id, c.visitor_hash, c.clicked_at) > (l.id, b.{digest}, b.clicked_at - interval '24 hours')
             AND (c.link_id, c.visitor_hash, c.clicked_at) <= (l.id, b.{digest}, b.clicked_at)
             AND NOT c.is_bot AND c.click_id <> b.click_id)
       AND NOT EXISTS (
           SELECT 1 FROM click_batch e
           WHERE e.link_id = b.link_id AND e.visitor_hash = b.{digest}
             AND e.clicked_at > b.clicked_at - interval '24 hours' AND e.clicked_at <= b.clicked_at
             AND NOT e.is_bot AND (e.clicked_at, e.click_id) < (b.clicked_at, b.click_id))"""

INSERT_BATCH = f"""
INSERT INTO referrals_click
    (click_id, workspace_id, link_id, partner_id, clicked_at, ip_hash, visitor_hash, user_agent, referrer,
     is_bot, is_unique, earns_credit)
SELECT b.click_id, l.workspace_id, l.id, l.partner_id, b.clicked_at, b.ip_hash, b.visitor_hash, b.user_agent,
       b.referrer, b.is_bot,
       NOT b.is_bot{_EARLIER_CLICK.format(digest="visitor_hash")}{_EARLIER_CLICK.format(digest="prev_visitor_hash")},
       p.status = 'active'
FROM click_batch b
JOIN referrals_link l ON l.id = b.link_id AND l.workspace_id = b.workspace_id
JOIN partners_partner p ON p.id = l.partner_id
ON CONFLICT (click_id) DO NOTHING
"""


def write_batch(rows: list[tuple[Any, ...]]) -> int:
    """Write clicks in one transaction; returns how many were new. Safe to repeat with the same rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        stage_batch(cursor, rows)
        cursor.execute(INSERT_BATCH)
        inserted = cursor.rowcount  # the table goes with the commit (ON COMMIT DROP)
    return inserted


def stage_batch(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    """Load `rows` into the transaction's `click_batch` table, ready for INSERT_BATCH."""
    cursor.execute("DROP TABLE IF EXISTS pg_temp.click_batch")
    cursor.execute(
        "CREATE TEMP TABLE click_batch (click_id varchar(32), link_id bigint, workspace_id bigint, "
        "clicked_at timestamptz, ip_hash varchar(64), visitor_hash varchar(64), prev_visitor_hash varchar(64), "
        "user_agent varchar(512), referrer varchar(2000), is_bot boolean) ON COMMIT DROP"
    )
    with cursor.cursor.copy(f"COPY click_batch ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute("CREATE INDEX ON click_batch (link_id, visitor_hash, clicked_at)")
    # No ANALYZE of the batch and no ORDER BY: the plan is pinned (see INSERT_BATCH) and the stream
    # already yields clicks in time order; together they were a tenth of a batch's time.
    cursor.execute("SET LOCAL enable_seqscan = off")


def _consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def flush_clicks(
    *,
    batch_size: int = 2000,
    max_seconds: float | None = None,
    claim_idle_ms: int = 30_000,
    pause_before_ack: float = 0.0,
) -> FlushResult:
    """Move buffered clicks into PostgreSQL until the stream is drained (or `max_seconds` pass).

    Call it outside any transaction: entries are acknowledged right after their batch commits.
    `pause_before_ack` only widens the commit-to-acknowledge window for the crash test.
    """
    started = time.monotonic()
    result = FlushResult()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_FLUSH_LOCK_KEY])
        if not cursor.fetchone()[0]:
            result.busy = True
            return result
    try:
        r = client()
        key = stream_key()
        _ensure_group(r, key)
        consumer = _consumer_name()

        def out_of_time() -> bool:
            return max_seconds is not None and time.monotonic() - started > max_seconds

        # Entries other flushers read but never acknowledged (they died): take them over first.
        cursor_id = "0-0"
        while not out_of_time():
            reply = r.xautoclaim(key, GROUP, consumer, min_idle_time=claim_idle_ms, start_id=cursor_id, count=batch_size)
            cursor_id, entries = reply[0], reply[1]
            _process(r, key, entries, result, pause_before_ack)
            if cursor_id in ("0-0", b"0-0"):
                break
        # Our own pending entries (none unless this consumer name was reused), then new ones.
        for start in ("0", ">"):
            while not out_of_time():
                reply = r.xreadgroup(GROUP, consumer, {key: start}, count=batch_size)
                entries = reply[0][1] if reply else []
                if not entries:
                    break
                _process(r, key, entries, result, pause_before_ack)
        _trim(r, key)
        _forget_idle_consumers(r, key, consumer)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_FLUSH_LOCK_KEY])
    result.seconds = time.monotonic() - started
    return result


def _process(r: redis.Redis, key: str, entries: list[tuple[str, dict[str, str] | None]], result: FlushResult,
             pause_before_ack: float) -> None:
    if not entries:
        return
    rows: list[tuple[Any, ...]] = []
    ids: list[str] = []
    for entry_id, fields in entries:
        ids.append(entry_id)
        if not fields:  # trimmed or deleted while pending: nothing left to store
            continue
        try:
            rows.append(_row(fields))
        except (KeyError, ValueError, TypeError):
            # A malformed entry can never be written; keep it out of the way instead of retrying forever.
            result.malformed += 1
            logger.error("Dropping malformed click entry %s: %s", entry_id, sorted(fields))
    inserted = write_batch(rows) if rows else 0
    if pause_before_ack:
        time.sleep(pause_before_ack)
    r.xack(key, GROUP, *ids)
    result.read += len(rows)
    result.stored += inserted
    result.skipped += len(rows) - inserted
    result.batches += 1


def _trim(r: redis.Redis, key: str) -> None:
    """Remove acknowledged entries: everything older than the oldest pending one (or all delivered)."""
    pending = r.xpending(key, GROUP)
    if pending["pending"]:
        min_id = pending["min"]
    else:
        groups = {g["name"]: g for g in r.xinfo_groups(key)}
        min_id = groups[GROUP]["last-delivered-id"]
        if min_id in ("0-0", "0"):
            return
        ms, seq = (int(part) for part in min_id.split("-"))
        min_id = f"{ms}-{seq + 1}"
    r.xtrim(key, minid=min_id, approximate=False)


def _forget_idle_consumers(r: redis.Redis, key: str, current: str) -> None:
    # Each flusher process is a consumer; dead ones with nothing pending are only clutter.
    for info in r.xinfo_consumers(key, GROUP):
        if info["name"] != current and info["pending"] == 0 and info["idle"] > 3_600_000:
            r.xgroup_delconsumer(key, GROUP, info["name"])


def buffered_count() -> int:
    """Clicks in the stream not yet written (new plus pending); for the bench and operators."""
    r = client()
    key = stream_key()
    try:
        groups = {g["name"]: g for g in r.xinfo_groups(key)}
    except redis.ResponseError:
        return 0
    group = groups.get(GROUP)
    if group is None:
        return int(r.xlen(key))
    lag = group.get("lag")
    pending = int(group.get("pending", 0))
    if lag is None:  # Redis before 7 does not report lag
        last = group["last-delivered-id"]
        lag = len(r.xrange(key, min=f"({last}" if last not in ("0-0", "0") else "-", max="+"))
    return int(lag) + pending
