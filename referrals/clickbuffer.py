"""The redirect's hot path and the click buffer between it and PostgreSQL.

`/r/<code>` must answer fast and never lose a click, so it does one Redis round trip: a Lua
script reads the cached link (code -> link, workspace, partner, target URL) and appends the click
to a Redis stream in the same call. PostgreSQL is read only when the cache misses.

The flusher (Celery beat every few seconds, or `manage.py flush_clicks`) reads the stream through a
consumer group, writes each batch with one COPY into referrals_click (uniqueness flags decided
from the visitors' latest clicks, see write_batch), and acknowledges the entries only once their
batch is committed and on disk (see _Acknowledger). A flusher killed mid-batch leaves its entries
pending; the next one reads them again (its own pending entries first, then anything idle claimed
with XAUTOCLAIM), and the unique click id keeps the second write from storing anything twice.
Entries are trimmed from the stream only once acknowledged, so the stream never drops a click
(XADD without MAXLEN).

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
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import psycopg
import redis
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.encoding import iri_to_uri

from core.arrays import number_array, text_array

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
# The redirect's own Redis calls give up after this long (settings.CLICK_REDIS_TIMEOUT_SECONDS), and
# after a failure skip Redis for CLICK_REDIS_RETRY_SECONDS: a paused or dead Redis then costs a
# visitor the database fallback (a few ms), not a timeout on every click.
_unavailable_until = 0.0


class BufferUnavailable(redis.ConnectionError):
    """Redis failed the redirect recently: record clicks directly until the retry time."""


def client() -> redis.Redis:
    """One connection pool per process (redis-py resets it in a forked child)."""
    global _client, _script
    if _client is None:
        # Timeouts so a stuck Redis fails the flusher and the cache calls instead of hanging them.
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


_SORTABLE_DIGITS = "0123456789abcdefghijklmnopqrstuv"  # base32hex: sorts as its values do


def new_click_id(at: float) -> str:
    """A click id (tclid) of 20 characters that sorts by time: the millisecond in 9 base32hex digits,
    then 64 random bits in 11 URL-safe characters.

    Wholly random ids landed all over click_id_unique, so every click stored dirtied a page of that
    index of its own (and the first change of a page after a checkpoint writes it whole to the WAL):
    that was a third of the cost of storing a click. Ids in time order are appended at its end. A
    tclid is no secret (anyone gets a genuine one by clicking), it only has to be unique.
    """
    ms = int(at * 1000)
    return "".join([_SORTABLE_DIGITS[(ms >> shift) & 31] for shift in range(40, -1, -5)]) + secrets.token_urlsafe(8)


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


def _hot_connection() -> Any:
    """This thread's connection for the redirect, with the redirect's short timeouts."""
    connection = getattr(_local, "connection", None)
    if connection is None or _local.pid != os.getpid():
        pool = client().connection_pool
        timeout = settings.CLICK_REDIS_TIMEOUT_SECONDS
        connection = _local.connection = pool.connection_class(
            **{**pool.connection_kwargs, "socket_timeout": timeout, "socket_connect_timeout": timeout})
        _local.pid = os.getpid()
        # The fallback judges bots, and the bot detector's first use compiles its patterns (0.1-0.2 s):
        # have it ready before Redis fails, so the first click recorded directly is as quick as the rest.
        if not bot_detection_ready.is_set():
            threading.Thread(target=_prepare_bot_detection, daemon=True).start()
    return connection


def _run_script(keys: list[str], record: str) -> str | None:
    """EVALSHA on a connection this thread keeps for itself.

    The hot path skips redis-py's pool and command machinery (a lock, a readiness poll and a
    generic packer per call), which cost more than the round trip itself. A command resent after
    a broken connection may record a click twice; so may a command that timed out in a paused
    Redis and ran once it resumed, while the fallback wrote the click too. Every copy carries the
    same click id, and the flusher keeps one.
    """
    global _unavailable_until
    if time.monotonic() < _unavailable_until:
        raise BufferUnavailable("Redis failed the redirect moments ago")
    connection = _hot_connection()
    packed = _pack("EVALSHA", _script.sha, "2", *keys, record)
    for attempt in (1, 2):
        try:
            connection.send_packed_command([packed], check_health=False)
            return connection.read_response()  # type: ignore[no-any-return]
        except redis.exceptions.NoScriptError:
            client().script_load(_RESOLVE_AND_RECORD)  # Redis restarted or flushed its scripts
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            connection.disconnect()
            # Resent once over a new connection only when the old one was merely stale (Redis
            # restarted): a timeout means Redis is stuck, and waiting again would double the delay.
            if attempt == 2 or isinstance(exc, redis.TimeoutError):
                _unavailable_until = time.monotonic() + settings.CLICK_REDIS_RETRY_SECONDS
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


bot_detection_ready = threading.Event()


def _prepare_bot_detection() -> None:
    _crawler_detect().isCrawler("tandem warm-up")  # survives the exclusions, so both patterns compile
    bot_detection_ready.set()


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


# A click id from new_click_id (or a test's readable one) and hex digests: anything else in an
# entry is not a click the redirect recorded.
_PLAIN_KEYS = re.compile(r"[A-Za-z0-9_.:-]{1,32} [0-9a-f]{1,64} [0-9a-f]{1,64}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ClickRow(NamedTuple):
    """A buffered click, ready to be written (see write_batch)."""

    click_id: str
    link_id: int
    workspace_id: int
    clicked_at: datetime
    ip_hash: str
    visitor_hash: str
    prev_visitor_hash: str
    user_agent: str
    referrer: str
    is_bot: bool
    micros: int  # clicked_at in microseconds since the epoch, the unit uniqueness is decided in


def _row(fields: dict[str, str]) -> ClickRow:
    link_id, workspace_id, _partner_id = fields["l"].split(":")
    click_id, at, ip_digest, visitor, previous, user_agent, referrer = fields["d"].split(SEP)
    if not _PLAIN_KEYS.fullmatch(f"{click_id} {visitor} {previous}"):
        raise ValueError("click id or visitor digest out of shape")
    micros = round(float(at) * 1_000_000)
    # _make: a third cheaper than ClickRow(...), whose __new__ takes keywords.
    return ClickRow._make((click_id, int(link_id), int(workspace_id), _EPOCH + timedelta(microseconds=micros),
                           ip_digest[:64], visitor, previous, user_agent[:USER_AGENT_MAX], referrer[:REFERRER_MAX],
                           is_bot(user_agent), micros))


# --- Writing a batch ------------------------------------------------------------------------------
#
# A click is unique unless the same visitor (today's digest, or yesterday's across midnight) made a
# human click on the same link in the 24 hours before it, stored earlier or earlier in its batch.
# Probing every click of the visitor for each row cost more than storing the row, so the flusher
# keeps the time of each visitor's latest click per link in `referrals_latestvisit` (LatestVisit)
# and decides in Python: one primary-key lookup per distinct (link, digest) of the batch, one
# upsert per distinct (link, visitor) after the batch. The latest click answers exactly whenever it
# is not later than the click being decided, which is the rule while the stream is in time order.
# The rest (a click older than its visitor's latest one, e.g. a batch re-read after a crash, or
# one whose window reaches past what LatestVisit surely keeps) is checked against the clicks
# themselves through click_link_visitor, as before.
#
# The batch then goes into referrals_click with one COPY, no staging table and no ON CONFLICT. A
# click id already stored (a batch committed but not acknowledged before a crash, or a click sent
# twice) makes the COPY fail on click_id_unique; the batch is then retried without the stored ids,
# so a re-delivered batch is still written once.

DAY = 86_400_000_000  # microseconds
# LatestVisit rows are forgotten this long after their click (at most once an hour, by the flusher).
LATEST_VISIT_KEEP = timedelta(hours=48)
_PRUNE_EVERY_SECONDS = 3600

# Binary COPY: PostgreSQL parses it a fifth faster than text.
_COPY_CLICKS = """COPY referrals_click (click_id, workspace_id, link_id, partner_id, clicked_at, ip_hash, visitor_hash,
                   user_agent, referrer, is_bot, is_unique, earns_credit) FROM STDIN (FORMAT BINARY)"""
_COPY_TYPES = ("varchar", "int8", "int8", "int8", "timestamptz", "varchar", "varchar", "varchar", "varchar", "bool",
               "bool", "bool")

_LINKS = """
SELECT l.id, l.workspace_id, l.partner_id, p.status = 'active'
FROM referrals_link l JOIN partners_partner p ON p.id = l.partner_id
WHERE l.id = ANY(%s::bigint[])
"""

# Each key is one lookup by LatestVisit's primary key: LIMIT 1 keeps the subquery a nested loop
# (it cannot be flattened into a join the planner might turn into a scan of the whole table).
_LATEST_VISITS = """
SELECT k.link_id, k.visitor_hash, (extract(epoch FROM v.clicked_at) * 1000000)::bigint
FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[]) AS k(workspace_id, link_id, visitor_hash)
CROSS JOIN LATERAL (
    SELECT clicked_at FROM referrals_latestvisit v
    WHERE v.workspace_id = k.workspace_id AND v.link_id = k.link_id AND v.visitor_hash = k.visitor_hash
    LIMIT 1) v
"""

_REMEMBER_VISITS = """
INSERT INTO referrals_latestvisit AS v (workspace_id, link_id, visitor_hash, clicked_at)
SELECT w, l, h, timestamptz 'epoch' + us * interval '1 microsecond'
FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::bigint[]) AS k(w, l, h, us)
ON CONFLICT (workspace_id, link_id, visitor_hash) DO UPDATE SET clicked_at = greatest(v.clicked_at, excluded.clicked_at)
"""

# The exact check for the clicks LatestVisit cannot decide. The bounds are row comparisons over
# click_link_visitor's columns, in that index's order, so no other index can serve them: with
# plain `clicked_at` conditions the planner could pick another index (by skip scan, too) and read
# every click of the day for each row when its statistics were off, e.g. after one visitor's burst.
_EARLIER_CLICK = """
    EXISTS (SELECT 1 FROM referrals_click c
            WHERE (c.link_id, c.visitor_hash, c.clicked_at) > (b.link_id, b.{digest}, b.clicked_at - interval '24 hours')
              AND (c.link_id, c.visitor_hash, c.clicked_at) <= (b.link_id, b.{digest}, b.clicked_at)
              AND NOT c.is_bot AND c.click_id <> b.click_id)"""

# A stored click within 24 hours after a click written late is not unique. Only the same day's digest
# finds them (yesterday's digest of a stored click is not kept), so a late click just before midnight
# leaves the next day's clicks as they were. click_link_visitor serves each key.
_DEMOTE_LATER_CLICKS = """
UPDATE referrals_click c SET is_unique = false
FROM unnest(%s::bigint[], %s::varchar[], %s::bigint[]) AS k(link_id, visitor_hash, us)
WHERE (c.link_id, c.visitor_hash, c.clicked_at) > (k.link_id, k.visitor_hash, timestamptz 'epoch' + k.us * interval '1 microsecond')
  AND (c.link_id, c.visitor_hash, c.clicked_at)
      <= (k.link_id, k.visitor_hash, timestamptz 'epoch' + k.us * interval '1 microsecond' + interval '24 hours')
  AND c.is_unique AND NOT c.is_bot
"""

CLICKS_WITH_EARLIER_VISITS = f"""
SELECT b.click_id
FROM (SELECT click_id, link_id, visitor_hash, prev_visitor_hash, timestamptz 'epoch' + us * interval '1 microsecond'
      FROM unnest(%s::varchar[], %s::bigint[], %s::varchar[], %s::varchar[], %s::bigint[])
          AS k(click_id, link_id, visitor_hash, prev_visitor_hash, us)
     ) AS b(click_id, link_id, visitor_hash, prev_visitor_hash, clicked_at)
WHERE {_EARLIER_CLICK.format(digest="visitor_hash")}
   OR {_EARLIER_CLICK.format(digest="prev_visitor_hash")}
"""


def write_batch(rows: list[ClickRow], *, wait_for_disk: bool = True) -> int:
    """Write clicks in one transaction; returns how many were new. Safe to repeat with the same rows.

    Clicks of a link that no longer exists (or not in the workspace they name) are left out. With
    `wait_for_disk` False the commit returns before the batch is on disk: the caller must keep
    the clicks' source until wait_for_earlier_commits() has returned (see _Acknowledger).
    """
    # Time order (then click id, for equal times) is the order uniqueness is decided in.
    rows = sorted({row.click_id: row for row in reversed(rows)}.values(), key=lambda row: (row.micros, row.click_id))
    with transaction.atomic(), connection.cursor() as cursor:
        # Every statement below is meant to use an index; a sequential scan "stopping at the first
        # match" can look cheap to a planner whose statistics were skewed by one visitor's burst.
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not wait_for_disk:
            cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(_LINKS, [number_array({row.link_id for row in rows})])
        links = {link_id: (workspace_id, partner_id, earns) for link_id, workspace_id, partner_id, earns in cursor}
        rows = [row for row in rows if row.link_id in links and links[row.link_id][0] == row.workspace_id]
        if not rows:
            return 0
        try:
            with transaction.atomic():
                _insert_clicks(cursor, rows, links)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            # Some of these clicks are stored already (see above): write only the others.
            cursor.execute("SELECT click_id FROM referrals_click WHERE click_id = ANY(%s::varchar[])",
                           [text_array([row.click_id for row in rows])])
            stored = {click_id for (click_id,) in cursor}
            rows = [row for row in rows if row.click_id not in stored]
            if rows:
                _insert_clicks(cursor, rows, links)
    return len(rows)


def _insert_clicks(cursor: Any, rows: list[ClickRow], links: dict[int, tuple[int, int, bool]]) -> None:
    unique, predated = _uniqueness(cursor, rows)
    with cursor.cursor.copy(_COPY_CLICKS) as copy:
        copy.set_types(_COPY_TYPES)
        for row, is_unique in zip(rows, unique, strict=True):
            workspace_id, partner_id, earns = links[row.link_id]
            copy.write_row((row.click_id, workspace_id, row.link_id, partner_id, row.clicked_at, row.ip_hash,
                            row.visitor_hash, row.user_agent, row.referrer, row.is_bot, is_unique, earns))
    latest: dict[tuple[int, int, str], int] = {}
    for row in rows:  # in time order: the last one of a visitor is its latest
        if not row.is_bot:
            latest[(row.workspace_id, row.link_id, row.visitor_hash)] = row.micros
    if latest:
        keys = sorted(latest)  # one order for every writer, so two never wait on each other's rows
        cursor.execute(_REMEMBER_VISITS, [number_array(k[0] for k in keys), number_array(k[1] for k in keys),
                                          text_array([k[2] for k in keys]), number_array(latest[k] for k in keys)])
    if predated:
        # Clicks that arrive after a later click of their visitor was stored (one buffered in Redis
        # while Redis was down, when the redirect wrote the next one straight to PostgreSQL): that
        # later click was judged without them, and is no visitor's first in 24 hours after all.
        cursor.execute(_DEMOTE_LATER_CLICKS, [number_array(row.link_id for row in predated),
                                              text_array([row.visitor_hash for row in predated]),
                                              number_array(row.micros for row in predated)])


def _uniqueness(cursor: Any, rows: list[ClickRow]) -> tuple[list[bool], list[ClickRow]]:
    """The is_unique flag of each row (rows in time order), from LatestVisit and the batch itself,
    and the rows that may be older than a stored click of their visitor (see _DEMOTE_LATER_CLICKS)."""
    keys = sorted({(row.workspace_id, row.link_id, digest)
                   for row in rows if not row.is_bot for digest in (row.visitor_hash, row.prev_visitor_hash)})
    stored: dict[tuple[int, str], int] = {}
    if keys:
        cursor.execute(_LATEST_VISITS, [number_array(k[0] for k in keys), number_array(k[1] for k in keys),
                                        text_array([k[2] for k in keys])])
        stored = {(link_id, digest): micros for link_id, digest, micros in cursor}
    # LatestVisit surely holds every human click since this moment (rows are kept LATEST_VISIT_KEEP).
    kept_since = (datetime.now(UTC) - LATEST_VISIT_KEEP - _EPOCH) // timedelta(microseconds=1)
    seen: dict[tuple[int, str], int] = {}  # the latest earlier click of the batch, per link and visitor
    unique: list[bool] = []
    undecided: list[int] = []
    for n, row in enumerate(rows):
        if row.is_bot:
            unique.append(False)
            continue
        at, since = row.micros, row.micros - DAY
        verdict: bool | None = True
        for digest in (row.visitor_hash, row.prev_visitor_hash):
            key = (row.link_id, digest)
            earlier = seen.get(key, 0)
            latest = stored.get(key, 0)
            if earlier > since or since < latest <= at:
                verdict = False
                break
            if latest > at or since < kept_since:
                verdict = None  # LatestVisit cannot tell: the clicks themselves will
        seen[(row.link_id, row.visitor_hash)] = at
        unique.append(verdict is not False)
        if verdict is None:
            undecided.append(n)
    if undecided:
        batch = [rows[n] for n in undecided]
        cursor.execute(CLICKS_WITH_EARLIER_VISITS, [
            text_array([row.click_id for row in batch]), number_array(row.link_id for row in batch),
            text_array([row.visitor_hash for row in batch]), text_array([row.prev_visitor_hash for row in batch]),
            number_array(row.micros for row in batch)])
        repeated = {click_id for (click_id,) in cursor}
        for n in undecided:
            unique[n] = rows[n].click_id not in repeated
    # What LatestVisit cannot decide includes every click older than its visitor's latest stored one.
    return unique, [rows[n] for n in undecided]


def remember_recent_clicks(*, workspace_id: int) -> None:
    """Fill LatestVisit from a workspace's stored clicks (for clicks written without the flusher, e.g. the demo)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO referrals_latestvisit AS v (workspace_id, link_id, visitor_hash, clicked_at)
               SELECT workspace_id, link_id, visitor_hash, max(clicked_at) FROM referrals_click
               WHERE workspace_id = %s AND NOT is_bot AND clicked_at > %s
               GROUP BY workspace_id, link_id, visitor_hash
               ON CONFLICT (workspace_id, link_id, visitor_hash)
               DO UPDATE SET clicked_at = greatest(v.clicked_at, excluded.clicked_at)""",
            [workspace_id, datetime.now(UTC) - LATEST_VISIT_KEEP],
        )


def forget_old_visits() -> int:
    """Drop LatestVisit rows older than LATEST_VISIT_KEEP; returns how many."""
    # The cut is taken on the clock that stamps the clicks and that _uniqueness trusts (kept_since),
    # not PostgreSQL's now(): a database clock ahead of ours deleted visits _uniqueness relied on.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM referrals_latestvisit WHERE clicked_at < %s", [datetime.now(UTC) - LATEST_VISIT_KEEP])
        return cursor.rowcount


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

    Call it outside any transaction: entries are acknowledged once their batches are on disk (see
    _Acknowledger). `pause_before_ack` only widens the commit-to-acknowledge window for the crash test.
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

        acks = _Acknowledger(r, key, pause_before_ack)
        # Entries other flushers read but never acknowledged (they died): take them over first.
        cursor_id = "0-0"
        while not out_of_time():
            reply = r.xautoclaim(key, GROUP, consumer, min_idle_time=claim_idle_ms, start_id=cursor_id, count=batch_size)
            cursor_id, entries = reply[0], reply[1]
            _process(acks, entries, result)
            if cursor_id in ("0-0", b"0-0"):
                break
        acks.acknowledge()  # before re-reading our own pending entries, which these would be among
        # Our own pending entries (none unless this consumer name was reused), then new ones.
        for start in ("0", ">"):
            position = start
            while not out_of_time():
                reply = r.xreadgroup(GROUP, consumer, {key: position}, count=batch_size)
                entries = reply[0][1] if reply else []
                if not entries:
                    break
                _process(acks, entries, result)
                if start == "0":
                    position = entries[-1][0]  # they stay pending until acknowledged: read on past them
        acks.acknowledge()
        _trim(r, key)
        _forget_idle_consumers(r, key, consumer)
        if r.set(f"{namespace()}:latest-visits-pruned", "1", nx=True, ex=_PRUNE_EVERY_SECONDS):
            forget_old_visits()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_FLUSH_LOCK_KEY])
    result.seconds = time.monotonic() - started
    return result


def wait_for_earlier_commits() -> None:
    """Return once every transaction this session committed before is on disk.

    A commit that waits for the disk (the session's default) makes all WAL before it durable too,
    and only a transaction with an id writes a commit record: pg_current_xact_id() gives it one.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()")


class _Acknowledger:
    """Acknowledges stream entries only once the batches that wrote them are surely on disk.

    Batches commit without waiting for the disk (a flush to disk per batch was a tenth of the
    drain's time). Should PostgreSQL crash before such a commit reaches the disk, the batch is
    gone; its entries must then still be pending in the stream so that they are read again, so
    they are acknowledged only after wait_for_earlier_commits(), every few batches and at the end.
    A flusher that dies before that leaves them pending too: the next one re-reads them, and the
    click ids already stored are skipped (write_batch).
    """

    BATCHES = 8

    def __init__(self, r: redis.Redis, key: str, pause_before_ack: float) -> None:
        self.r, self.key, self.pause_before_ack = r, key, pause_before_ack
        self.ids: list[str] = []
        self.batches = 0

    def add(self, ids: list[str]) -> None:
        self.ids.extend(ids)
        self.batches += 1
        if self.batches >= self.BATCHES:
            self.acknowledge()

    def acknowledge(self) -> None:
        if not self.ids:
            return
        wait_for_earlier_commits()
        if self.pause_before_ack:
            time.sleep(self.pause_before_ack)
        self.r.xack(self.key, GROUP, *self.ids)
        self.ids, self.batches = [], 0


def _process(acks: _Acknowledger, entries: list[tuple[str, dict[str, str] | None]], result: FlushResult) -> None:
    if not entries:
        return
    rows: list[ClickRow] = []
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
    inserted = write_batch(rows, wait_for_disk=False) if rows else 0
    acks.add(ids)
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


# --- How far the flusher has written --------------------------------------------------------------
#
# An event may name a click the redirect buffered but the flusher has not written yet. These tell
# the inbox processor whether a click id it cannot find may still be on its way (attribution/click_wait.py).

_CLICK_ID_SHAPE = re.compile(r"[0-9a-v]{9}[A-Za-z0-9_-]{11}")


def click_time(click_id: str) -> datetime | None:
    """When a click id of new_click_id was made (to the millisecond); None for an id of another shape."""
    if not isinstance(click_id, str) or not _CLICK_ID_SHAPE.fullmatch(click_id):
        return None
    return _EPOCH + timedelta(milliseconds=int(click_id[:9], 32))  # base32hex is Python's base 32


def _entry_time(entry_id: str) -> datetime:
    return _EPOCH + timedelta(milliseconds=int(entry_id.split("-", 1)[0]))


def _click_time_of_entry(r: redis.Redis, key: str, entry_id: str) -> datetime:
    # The click's own time (the web server's clock, as in its tclid), not the entry id's (Redis's
    # clock): the mark is compared with tclid times, and two clocks may disagree by any amount.
    for _, fields in r.xrange(key, min=entry_id, max=entry_id, count=1):
        try:
            return _EPOCH + timedelta(seconds=float(fields["d"].split(SEP)[1]))
        except (KeyError, IndexError, ValueError):
            break
    return _entry_time(entry_id)  # acknowledged and trimmed meanwhile, or not a click entry


def flushed_through() -> datetime:
    """Every click buffered before this moment is in PostgreSQL: the time of the oldest stream entry
    the flusher has not acknowledged (pending, or not yet delivered), else now.

    Entries are acknowledged only after their batch committed (see _Acknowledger), so a click older
    than this mark is either stored or was never buffered. Raises redis.RedisError when Redis cannot
    be asked.
    """
    r = client()
    key = stream_key()
    now = datetime.now(UTC)
    try:
        groups = {g["name"]: g for g in r.xinfo_groups(key)}
    except redis.ResponseError:  # no stream yet: nothing was ever buffered
        return now
    oldest: list[str] = []
    group = groups.get(GROUP)
    if group is None:  # no flusher has run: every entry is waiting
        oldest += [entry_id for entry_id, _ in r.xrange(key, count=1)]
    else:
        pending = r.xpending(key, GROUP)
        if pending["pending"] and pending["min"]:
            oldest.append(pending["min"])
        last = group["last-delivered-id"]
        start = f"({last}" if last not in ("0-0", "0") else "-"
        oldest += [entry_id for entry_id, _ in r.xrange(key, min=start, max="+", count=1)]
    if not oldest:
        return now
    return min(now, min(_click_time_of_entry(r, key, entry_id) for entry_id in oldest))


@dataclass(frozen=True)
class FlusherLag:
    """How far behind the redirect the flusher is: for /healthz and the events page."""

    seconds: float  # age of the oldest click not yet written (0 when none waits)
    buffered: int  # clicks in the stream not yet written


def flusher_lag() -> FlusherLag:
    """The flusher's lag now; raises redis.RedisError when Redis cannot be asked."""
    mark = flushed_through()
    return FlusherLag(seconds=max((datetime.now(UTC) - mark).total_seconds(), 0.0), buffered=buffered_count())
