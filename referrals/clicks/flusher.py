"""The flusher: moves buffered clicks from the Redis stream into PostgreSQL, and says how far it got.

It runs from Celery beat every few seconds, or as `manage.py flush_clicks`. It reads the stream
through a consumer group, writes each batch with writer.write_batch, and acknowledges the entries
only once their batch is committed and on disk (see _Acknowledger). A flusher killed mid-batch
leaves its entries pending; the next one reads them again (its own pending entries first, then
anything idle claimed with XAUTOCLAIM), and the unique click id keeps the second write from storing
anything twice. Entries are trimmed from the stream only once acknowledged, so the stream never
drops a click (XADD without MAXLEN).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import redis
from django.db import connection, transaction

from referrals.clicks.buffer import GROUP, client, namespace, stream_key
from referrals.clicks.entries import SEP, ClickRow, click_row
from referrals.clicks.ids import EPOCH
from referrals.clicks.writer import forget_old_visits, write_batch

logger = logging.getLogger(__name__)

_FLUSH_LOCK_KEY = 0x7A4D_C11C  # pg advisory lock: one flusher writes at a time
_PRUNE_EVERY_SECONDS = 3600  # how often the flusher forgets old LatestVisit rows


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


def _ensure_group(r: redis.Redis, key: str) -> None:
    try:
        r.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


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
            reply = r.xautoclaim(
                key, GROUP, consumer, min_idle_time=claim_idle_ms, start_id=cursor_id, count=batch_size
            )
            cursor_id, entries = reply[0], reply[1]
            _process(acks, entries, result)
            if cursor_id in ("0-0", b"0-0"):
                break
        acks.acknowledge()  # before re-reading our own pending entries, which these would be among
        # Our own pending entries (none unless this consumer name was reused), then new ones.
        for start in ("0", ">"):
            position = start
            while not out_of_time():
                read: Any = r.xreadgroup(GROUP, consumer, {key: position}, count=batch_size)
                entries = read[0][1] if read else []
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
            rows.append(click_row(fields))
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


def _xrange(
    r: redis.Redis, key: str, *, start: str = "-", end: str = "+", count: int | None = None
) -> list[tuple[str, dict[str, str]]]:
    # The client decodes responses (decode_responses=True): ids and fields are str, never bytes or None.
    return cast(list[tuple[str, dict[str, str]]], r.xrange(key, min=start, max=end, count=count))


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
        lag = len(_xrange(r, key, start=f"({last}" if last not in ("0-0", "0") else "-", end="+"))
    return int(lag) + pending


# --- How far the flusher has written --------------------------------------------------------------
#
# An event may name a click the redirect buffered but the flusher has not written yet. These tell
# the inbox processor whether a click id it cannot find may still be on its way (attribution/click_wait.py).


def _entry_time(entry_id: str) -> datetime:
    return EPOCH + timedelta(milliseconds=int(entry_id.split("-", 1)[0]))


def _click_time_of_entry(r: redis.Redis, key: str, entry_id: str) -> datetime:
    # The click's own time (the web server's clock, as in its tclid), not the entry id's (Redis's
    # clock): the mark is compared with tclid times, and two clocks may disagree by any amount.
    for _, fields in _xrange(r, key, start=entry_id, end=entry_id, count=1):
        try:
            return EPOCH + timedelta(seconds=float(fields["d"].split(SEP)[1]))
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
        oldest += [entry_id for entry_id, _ in _xrange(r, key, count=1)]
    else:
        pending = r.xpending(key, GROUP)
        if pending["pending"] and pending["min"]:
            oldest.append(pending["min"])
        last = group["last-delivered-id"]
        start = f"({last}" if last not in ("0-0", "0") else "-"
        oldest += [entry_id for entry_id, _ in _xrange(r, key, start=start, end="+", count=1)]
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
