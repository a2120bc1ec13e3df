"""Events that name a click still in the click buffer wait for it, for a bounded time.

The redirect hands the visitor a click id (tclid) the moment the click is in Redis; the flusher
writes it to PostgreSQL a few seconds later (referrals/clicks/). A lead or sale sent in
between names a click the processor cannot find yet. Judging it then would lose the partner's
credit, so such an event stays `received` ("waiting_for_click") while the click may still be in
the buffer: its id carries its time, and the flusher says how far it has written. When the set
commits, the flusher is run and the waiting events are processed again; the sweeper retries them
too. After CLICK_WAIT (settings.CLICK_WAIT_SECONDS), or at once when the click surely is not in
flight, the event is judged without it (`unknown_click`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import redis
from django.conf import settings
from django.db import transaction

from attribution.models import InboundEvent
from referrals.clicks.flusher import flush_clicks, flushed_through, flusher_lag
from referrals.clicks.ids import click_time

logger = logging.getLogger(__name__)

REASON_CODE = "waiting_for_click"
# The click id's time and the flusher's mark both come from web servers' clocks, maybe not the same
# server's; and clicks stamped on two servers may reach the stream out of order.
CLOCK_SKEW = timedelta(seconds=10)
# A flush run for waiting events is bounded: a large backlog is the beat flusher's work.
FLUSH_SECONDS = 5.0
MAX_COUNTDOWN = 30


def click_wait() -> timedelta:
    return timedelta(seconds=settings.CLICK_WAIT_SECONDS)


def clicks_in_flight(click_ids: Collection[str]) -> set[str]:
    """Of these click ids, none of them stored, those that may still be in the click buffer.

    An id not made by the redirect (no time in it) never is. When Redis cannot be asked, every
    id with a time may be: the bounded wait still ends it.
    """
    times = {click_id: at for click_id in click_ids if (at := click_time(click_id)) is not None}
    if not times:
        return set()
    try:
        mark = flushed_through()
    except (redis.RedisError, OSError):
        logger.warning("Could not ask Redis how far the click flusher has written", exc_info=True)
        return set(times)
    return {click_id for click_id, at in times.items() if at >= mark - CLOCK_SKEW}


def may_still_wait(received_at: datetime, now: datetime) -> bool:
    return now - received_at < click_wait()


def retry_after_flush_on_commit(workspace_id: int, event_ids: list[int], *, attempts: int) -> None:
    """Once the set commits: run the flusher, then process the waiting events again."""
    transaction.on_commit(partial(_flush_and_retry, workspace_id, list(event_ids), attempts), robust=True)


def retry_countdown(*, attempts: int, busy: bool) -> float | None:
    """None (now) on the first wait after a flush; otherwise a pause growing with the tries, up to 30 s."""
    if attempts == 0 and not busy:
        return None
    return float(min(2 ** max(attempts - 1, 0), MAX_COUNTDOWN))


def _flush_and_retry(workspace_id: int, event_ids: list[int], attempts: int) -> None:
    # Imported here: tasks import the processor, which imports this module.
    from attribution.tasks import enqueue_processing

    try:
        # Advisory-locked: when the beat flusher is running, this steps aside ("busy").
        busy = flush_clicks(max_seconds=FLUSH_SECONDS).busy
    except Exception:  # noqa: BLE001 - Redis or the database down: retry later, the sweeper is the fallback
        logger.warning("Could not flush the click buffer for %d waiting events", len(event_ids), exc_info=True)
        busy = True
    enqueue_processing(workspace_id, event_ids, countdown=retry_countdown(attempts=attempts, busy=busy))


@dataclass(frozen=True)
class ClickBufferState:
    """What the operators and the events page are told: how far behind the flusher is, and who waits."""

    lag_seconds: float | None  # None when Redis cannot be asked
    buffered: int | None
    waiting_events: int


def click_buffer_state(*, workspace_id: int | None = None) -> ClickBufferState:
    """The flusher's lag and the events waiting for a click: of one workspace, or of all (for /healthz)."""
    lag_seconds: float | None
    buffered: int | None
    try:
        lag = flusher_lag()
        lag_seconds, buffered = round(lag.seconds, 1), lag.buffered
    except (redis.RedisError, OSError):
        lag_seconds = buffered = None
    # Through the partial index of waiting events (inboundevent_ws_click_waits): a handful, never the inbox.
    waiting = InboundEvent.objects.across_workspaces("the health check counts the whole machine").filter(
        reason_code=REASON_CODE, status=InboundEvent.Status.RECEIVED
    )
    if workspace_id is not None:
        waiting = waiting.filter(workspace_id=workspace_id)
    return ClickBufferState(lag_seconds=lag_seconds, buffered=buffered, waiting_events=waiting.count())
