"""Processing the inbox in sets: attribution, conversions, commissions and ledger entries.

One call takes up to CHUNK received events, locks them (FOR UPDATE SKIP LOCKED, so another
worker simply takes other events) and, in ONE transaction, loads every fact it needs with a
handful of queries, attributes leads and sales (`engine.decide`), creates referrals,
conversions and commissions with set-based inserts, reverses commissions for refunds, marks
every event with its outcome and, last, posts the ledger entries (the per-workspace ledger lock
is held only for that final moment). A worker killed mid-way rolls all of it back: the events
stay `received`, the task is redelivered (acks_late) or the sweeper re-enqueues them, and the
unique constraints make a second attempt of anything already done a no-op.

Ordering within a set: leads, then sales, then refunds, each by `occurred_at`, so a lead and its
sale (or a sale and its refund) sent together are handled in the right order. A refund whose
sale Tandem has not processed yet stays `received`, "waiting for sale …"; when that sale is
settled the refunds waiting for it are woken (enqueued again), and the sweeper retries any
other waiting refund with a backoff. After WAIT_FOR_SALE without its sale the refund is marked
unattributed ("sale_not_found"); if the sale turns up later, it wakes the refund again.

The set's state is one `SetState` (state.py); its steps are functions over it, by what they own:
facts.py (loading), customers.py (attributing new customers), leads.py, sales.py, commissions.py
(commissions and their ledger entries), refunds.py and finish.py (outcomes, waking, the ledger).
`run_set` below runs them in order; faults.py is the seam tests use to fail a set between steps.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Workspace
from attribution import click_wait
from attribution.inbox import enqueue_on_commit
from attribution.models import InboundEvent
from attribution.processing.commissions import insert_commissions
from attribution.processing.customers import attribute_customers, hold_back_for_earlier_events
from attribution.processing.facts import load_programs, load_referrals
from attribution.processing.faults import after_step
from attribution.processing.finish import finish_set
from attribution.processing.leads import record_leads
from attribution.processing.refunds import WAIT_FOR_SALE, record_refunds
from attribution.processing.sales import record_sales
from attribution.processing.state import Event, ProcessResult, SetState, Status
from core.arrays import number_array
from core.memory import gc_paused
from core.sql import fetch_rows

__all__ = ["CHUNK", "MAX_ATTEMPTS", "WAIT_FOR_SALE", "ProcessResult", "process_events", "process_pending", "run_set"]

logger = logging.getLogger(__name__)

# Events per set (and per task): large enough that a set's fixed queries and its turn at the
# workspace's ledger lock are a small share of its time, small enough to stay a short transaction.
CHUNK = 10000
MAX_ATTEMPTS = 5


# --- Entry points ------------------------------------------------------------------------


def process_events(
    *, workspace_id: int, event_ids: Sequence[int] | None = None, limit: int = CHUNK, wait: bool = False
) -> ProcessResult:
    """Process received events of one workspace: these ids, or the oldest pending ones.

    Events another worker holds are skipped (it is processing them), unless `wait`: then this
    call waits for them, which is what a woken refund needs (its sale's set just committed).
    If the set fails for a reason other than the database itself, each event is retried alone
    so that one bad event cannot hold up the others; an event that keeps failing is marked
    `failed` with the error after MAX_ATTEMPTS.
    """
    if event_ids is None:
        event_ids = list(
            InboundEvent.objects.filter(workspace_id=workspace_id, status=Status.RECEIVED)
            .order_by("received_at", "id")
            .values_list("id", flat=True)[:limit]
        )
    ids = sorted(set(event_ids))
    if not ids:
        return ProcessResult()
    try:
        # The collector resumes only once the set's objects are freed (they are when _process_set
        # returns): resumed while they lived, its first pass walked all of them (8% of the worker's time).
        with gc_paused():
            return _process_set(workspace_id, ids, wait=wait)
    except (OperationalError, InterfaceError):
        # The database is down, or this set lost a deadlock: the whole set is retried later.
        raise
    except Exception as exc:
        if len(ids) == 1:
            logger.exception("Processing inbound event %s failed", ids[0])
            return _record_failure(workspace_id, ids[0], exc)
        logger.warning("Processing a set of %d events failed (%s); retrying them one by one", len(ids), exc)
        total = ProcessResult()
        for pk in ids:
            total.add(process_events(workspace_id=workspace_id, event_ids=[pk], wait=wait))
        return total


def process_pending(*, workspace: Workspace, chunk: int = CHUNK) -> ProcessResult:
    """Process everything the workspace has received, synchronously (seed_demo, tests, operators).

    Refunds still waiting for their sale at the end stay `received`.
    """
    started = timezone.now()
    total = ProcessResult()
    while True:
        ids = list(
            InboundEvent.objects.for_workspace(workspace)
            .filter(status=Status.RECEIVED)
            .filter(Q(attempted_at__isnull=True) | Q(attempted_at__lt=started))
            .order_by("received_at", "id")
            .values_list("id", flat=True)[:chunk]
        )
        if not ids:
            break
        total.add(process_events(workspace_id=workspace.pk, event_ids=ids))
    woken = list(total.woken)
    while woken:
        step = process_events(workspace_id=workspace.pk, event_ids=woken[:chunk], wait=True)
        total.add(step)
        woken = woken[chunk:] + step.woken
    return total


# Set at the start of a set's own transaction (not when a caller's transaction is already open).
# IMMEDIATE: the foreign-key checks run with each statement instead of all at COMMIT, where they
# would lengthen the moment the workspace's ledger lock is held. synchronous_commit off: the set
# does not wait for its commit to reach the disk, again with the ledger lock held. That is safe
# because a set is derived entirely from inbox rows that were durably committed when accepted,
# and it is atomic: if PostgreSQL crashes before the commit is flushed, the whole set is lost
# together (and every later set with it, as WAL is replayed in order), its events are `received`
# again and the sweeper processes them, exactly once.
_SET_TRANSACTION = "SET CONSTRAINTS ALL IMMEDIATE; SET LOCAL synchronous_commit TO OFF"


# The set's received events, locked; only the payload's fields the processor reads (not `raw`,
# which can be a whole webhook body), so nothing is decoded for nothing. The events are found by
# their ids alone (OFFSET 0 keeps the workspace and status conditions out of the index search):
# while a large import streams in, the statistics lag far behind the inbox, and the workspace's
# or the pending events' indexes look cheap when they would read every pending event.
# Its columns are those of state.Event.of.
_SELECT_SET = """
SELECT id, event_id, kind, attempts, received_at, related_event_id, processor_ref,
       payload->>'occurred_at', payload->>'customer_external_id', payload->>'customer_email', payload->>'amount',
       payload->>'currency', payload->>'click_id', payload->>'code', (payload->>'partner_id')::bigint
FROM (SELECT * FROM attribution_inboundevent WHERE id = ANY(%t::bigint[]) OFFSET 0) AS event
WHERE workspace_id = %b AND status = 'received'
ORDER BY id FOR UPDATE"""


def _process_set(workspace_id: int, ids: list[int], *, wait: bool) -> ProcessResult:
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute(_SET_TRANSACTION)
        rows = fetch_rows(_SELECT_SET + ("" if wait else " SKIP LOCKED"), [number_array(ids), workspace_id])
        if not rows:
            return ProcessResult()
        state = SetState(workspace=Workspace.objects.get(pk=workspace_id), events=[Event.of(row) for row in rows])
        run_set(state)
        if state.result.woken:
            enqueue_on_commit(workspace_id, list(state.result.woken), wait=True)
        if state.waiting_for_click:
            click_wait.retry_after_flush_on_commit(
                workspace_id,
                [e.pk for e in state.waiting_for_click],
                attempts=max(e.attempts for e in state.waiting_for_click),
            )
        if state.result.retry_soon:
            # In case the event they wait for settles before this commit, and so cannot wake them.
            countdown = min(2 ** min(state.events[0].attempts, 5), 30)
            enqueue_on_commit(workspace_id, list(state.result.retry_soon), countdown=countdown)
        return state.result


def run_set(state: SetState) -> None:
    """The steps of one set, in order (faults.STEPS names the points between them)."""
    by_kind: dict[str, list[Event]] = defaultdict(list)
    for event in state.events:
        by_kind[event.kind].append(event)
    leads, sales, refunds = (sorted(by_kind[k], key=lambda e: e.order) for k in ("lead", "sale", "refund"))
    load_programs(state)
    after_step("programs_loaded", state)
    if leads or sales:
        load_referrals(state, {e.customer for e in leads + sales})
    after_step("referrals_loaded", state)
    if leads or sales:
        leads, sales = hold_back_for_earlier_events(state, leads, sales)
        attribute_customers(state, leads, sales)
        if state.waiting_for_click:  # they and their customers' later events stay received
            leads = [e for e in leads if e.pk not in state.outcomes]
            sales = [e for e in sales if e.pk not in state.outcomes]
    after_step("customers_attributed", state)
    if leads or sales:
        record_leads(state, leads)
    after_step("leads_recorded", state)
    if sales:
        record_sales(state, sales)
    after_step("sales_recorded", state)
    # Before refunds: a refund in this set may take back a commission this set just earned.
    insert_commissions(state)
    after_step("commissions_inserted", state)
    if refunds:
        record_refunds(state, refunds)
    after_step("refunds_recorded", state)
    finish_set(state)
    after_step("finished", state)


def _record_failure(workspace_id: int, event_id: int, exc: Exception) -> ProcessResult:
    now = timezone.now()
    message = f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        event = (
            InboundEvent.objects.filter(workspace_id=workspace_id, pk=event_id, status=Status.RECEIVED)
            .select_for_update(skip_locked=True)
            .first()
        )
        if event is None:
            return ProcessResult()
        event.attempts += 1
        event.attempted_at = now
        if event.attempts >= MAX_ATTEMPTS:
            event.status, event.processed_at = Status.FAILED, now
            event.reason, event.reason_code = f"Failed after {event.attempts} attempts: {message}", "error"
        else:
            event.reason, event.reason_code = f"Will retry after an error: {message}", "error"
        event.save(update_fields=["attempts", "attempted_at", "status", "processed_at", "reason", "reason_code"])
    failed = event.status == Status.FAILED
    return ProcessResult(events=1, failed=int(failed), waiting=int(not failed))
