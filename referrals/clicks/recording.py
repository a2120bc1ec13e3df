"""The redirect's hot path: resolve a short link and record its click in one Redis round trip.

A Lua script reads the cached link (code -> link, workspace, partner, target URL) and appends the
click to the Redis stream in the same call; PostgreSQL is read only when the cache misses. While
Redis is down the redirect resolves from PostgreSQL and writes the click at once instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.utils.encoding import iri_to_uri

from referrals.clicks.bots import bot_detection_ready, prepare_bot_detection
from referrals.clicks.buffer import client, link_key, stream_key
from referrals.clicks.entries import SEP, Visit, click_row, stream_entry, visit_record
from referrals.clicks.writer import write_batch

logger = logging.getLogger(__name__)

CACHE_TTL_SECONDS = 3600  # invalidated on change; the TTL only bounds a lost invalidation
MISSING_TTL_SECONDS = 60  # unknown codes are remembered briefly so scanners cannot hammer the database

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

_script: Any = None  # registered on the first redirect (only its sha is sent)
# The redirect's own Redis calls give up after this long (settings.CLICK_REDIS_TIMEOUT_SECONDS), and
# after a failure skip Redis for CLICK_REDIS_RETRY_SECONDS: a paused or dead Redis then costs a
# visitor the database fallback (a few ms), not a timeout on every click.
_unavailable_until = 0.0


class BufferUnavailable(redis.ConnectionError):
    """Redis failed the redirect recently: record clicks directly until the retry time."""


def _load_script() -> None:
    global _script
    _script = client().register_script(_RESOLVE_AND_RECORD)


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
            **{**pool.connection_kwargs, "socket_timeout": timeout, "socket_connect_timeout": timeout}
        )
        _local.pid = os.getpid()
        # The fallback judges bots, and the bot detector's first use compiles its patterns (0.1-0.2 s):
        # have it ready before Redis fails, so the first click recorded directly is as quick as the rest.
        if not bot_detection_ready.is_set():
            threading.Thread(target=prepare_bot_detection, daemon=True).start()
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
            return connection.read_response()
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
        _load_script()
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
        Link.objects.across_workspaces("a link code is unique across Tandem and names its workspace")
        .filter(code=code, archived_at__isnull=True)
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
    write_batch([click_row(stream_entry(row["id"], row["workspace_id"], row["partner_id"], visit))])
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
