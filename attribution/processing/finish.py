"""Finishing a set: every event marked with its outcome, the events its outcomes unblock woken, and
last the ledger entries posted (the workspace's ledger lock is held only from there to the commit)."""

from __future__ import annotations

from attribution import reopen
from attribution.ledger import post_entries
from attribution.models import InboundEvent
from attribution.processing.state import COUNTERS, SetState, Status
from core.arrays import text_array
from core.sql import fetch_rows, update_rows


def finish_set(state: SetState) -> None:
    marks = []
    for event in state.events:
        status, reason, code = state.outcomes.get(
            event.pk, (Status.FAILED, "The processor reached no outcome.", "error")
        )
        final = status != Status.RECEIVED
        marks.append(
            {
                "id": event.pk,
                "status": status,
                "reason": reason,
                "reason_code": code,
                "attempts": event.attempts + 1,
                "attempted_at": state.now,
                "processed_at": state.now if final else None,
            }
        )
        counter = COUNTERS[status]
        setattr(state.result, counter, getattr(state.result, counter) + 1)
    update_rows(
        InboundEvent,
        marks,
        fields=["status", "reason", "reason_code", "attempts", "attempted_at", "processed_at"],
        where="t.workspace_id = %s",
        where_params=[state.ws],
    )
    reopen_sales_of_new_referrals(state)
    wake_refunds(state)
    wake_customers(state)
    state.result.retry_soon = list(state.waiting_for_customer)
    # Last, so the workspace's ledger lock is held only until the commit that follows.
    post_entries(workspace=state.workspace, entries=state.ledger, return_entries=False)


def reopen_sales_of_new_referrals(state: SetState) -> None:
    """Sales that reached Tandem before the event that made their customer a referral (Stripe's
    first invoice before its checkout) are processed again, now that the customer is one."""
    new = [r for r in state.refs.values() if r.created_here and r.pk and r.referred_at]
    if new:
        state.result.woken.extend(
            reopen.reopen_sales_before_referral(
                workspace_id=state.ws,
                referrals=[(r.customer, r.referred_at, r.clicked_at) for r in new],  # type: ignore[misc]
                exclude=[e.pk for e in state.events],
            )
        )


def wake_customers(state: SetState) -> None:
    """Wake the events that wait for an earlier event of a customer this set settled."""
    if not state.settled_customers:
        return
    mine = {e.pk for e in state.events}
    # Only the reason, not the status: an event keeps this reason only while it waits, and a condition
    # on the status would let PostgreSQL pick an index of all pending events, which statistics that lag
    # behind a large import present as empty (it then reads every pending event). Waking an event that
    # is settled meanwhile does nothing.
    rows = fetch_rows(
        "SELECT id FROM attribution_inboundevent WHERE workspace_id = %s "
        "AND reason_code = 'waiting_for_customer' AND customer_external_id = ANY(%s::text[])",
        [state.ws, text_array(list(state.settled_customers))],
    )
    state.result.woken.extend(pk for (pk,) in rows if pk not in mine)


def wake_refunds(state: SetState) -> None:
    """Wake the refunds of the sales this set settled, those set aside without their sale included."""
    if not state.settled_sale_keys:
        return
    mine = {e.pk for e in state.events}
    rows = fetch_rows(
        "SELECT id FROM attribution_inboundevent WHERE workspace_id = %s AND kind = 'refund' "
        "AND related_event_id = ANY(%s::text[]) AND (status = 'received' "
        "OR (status = 'unattributed' AND reason_code IN ('sale_unattributed', 'sale_not_found')))",
        [state.ws, text_array(list(state.settled_sale_keys))],
    )
    ids = [pk for (pk,) in rows if pk not in mine]
    if ids:
        InboundEvent.objects.filter(workspace_id=state.ws, pk__in=ids, status=Status.UNATTRIBUTED).update(
            status=Status.RECEIVED, reason="The sale was processed again.", reason_code="", processed_at=None
        )
        state.result.woken.extend(ids)
