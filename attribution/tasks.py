"""Celery tasks of the attribution app: thin, idempotent, taking ids.

`process_inbound_events` runs one set of the inbox processor; running it again for the same
ids does nothing (only `received` events are picked up). The sweeper and the hold-release task
run from beat (config/settings.py, CELERY_BEAT_SCHEDULE).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone

from accounts.api_platform import purge_idempotency_keys as purge_old_idempotency_keys
from attribution import click_wait, services
from attribution.fraud.days import fold_conversion_days as fold_days
from attribution.models import InboundEvent
from attribution.processing import CHUNK, process_events

logger = logging.getLogger(__name__)

# A received event nobody has tried for this long was probably never enqueued (the broker was
# down when it arrived, or its worker died): the sweeper enqueues it again.
SWEEP_AFTER = timedelta(seconds=getattr(settings, "ATTRIBUTION_SWEEP_AFTER_SECONDS", 60))
SWEEP_LIMIT = 50_000


def enqueue_processing(
    workspace_id: int,
    event_ids: Sequence[int],
    *,
    wait: bool = False,
    countdown: float | None = None,
    queue: str | None = None,
) -> None:
    """Send the ids to the workers in sets of CHUNK. Never raises: if the broker is unreachable the
    events are already safe in PostgreSQL and the sweeper enqueues them later."""
    ids = list(event_ids)
    for start in range(0, len(ids), CHUNK):
        try:
            process_inbound_events.apply_async(
                args=[workspace_id, ids[start : start + CHUNK]],
                kwargs={"wait": wait},
                retry=False,
                **({"countdown": countdown} if countdown else {}),
                **({"queue": queue} if queue else {}),
            )
        except Exception:  # noqa: BLE001 - any broker failure: the sweeper is the fallback
            logger.warning(
                "Could not enqueue %d inbound events of workspace %s; the sweeper will pick them up",
                len(ids) - start,
                workspace_id,
                exc_info=True,
            )
            return


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def process_inbound_events(workspace_id: int, event_ids: list[int], wait: bool = False) -> int:
    """Attribute these received events (those still received); returns how many were processed."""
    return process_events(workspace_id=workspace_id, event_ids=event_ids, wait=wait).events


@shared_task(acks_late=True)
def sweep_inbound_events(older_than_seconds: float | None = None, queue: str | None = None) -> int:
    """Enqueue received events that nobody processed: never enqueued, or their worker died, or a
    refund still waiting for its sale (retried with a growing pause, at most hourly), or an event
    waiting for its click (every sweep)."""
    now = timezone.now()
    after = SWEEP_AFTER if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    events = InboundEvent.objects.across_workspaces("beat: each set is then processed in its own workspace")
    due = events.filter(status=InboundEvent.Status.RECEIVED, received_at__lt=now - after).filter(
        Q(attempted_at__isnull=True) | Q(attempted_at__lt=now - after)
    )
    rows = list(
        due.order_by("received_at").values_list("workspace_id", "id", "attempts", "attempted_at", "reason_code")[
            :SWEEP_LIMIT
        ]
    )
    by_workspace: dict[int, list[int]] = {}
    for workspace_id, pk, attempts, attempted_at, reason_code in rows:
        if attempted_at is not None and now - attempted_at < _backoff(attempts, reason_code):
            continue
        by_workspace.setdefault(workspace_id, []).append(pk)
    for workspace_id, ids in by_workspace.items():
        enqueue_processing(workspace_id, ids, queue=queue)
    return sum(len(ids) for ids in by_workspace.values())


def _backoff(attempts: int, reason_code: str = "") -> timedelta:
    if reason_code == click_wait.REASON_CODE:
        # Retried every sweep: its wait is bounded by minutes (CLICK_WAIT), not by hours.
        return timedelta(0)
    return min(timedelta(minutes=2 ** min(attempts, 6)), timedelta(hours=1))


@shared_task(acks_late=True)
def approve_due_commissions() -> int:
    """Approve every pending commission whose hold has ended; returns how many."""
    return services.approve_due_commissions()


@shared_task(acks_late=True)
def fold_conversion_days() -> int:
    """Fold the partners' days of sales and refunds that have new additions into one row each."""
    return fold_days()


@shared_task(acks_late=True)
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than a day, as Stripe does (the keys are the API platform's)."""
    return purge_old_idempotency_keys()
