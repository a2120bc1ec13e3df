"""The set's refunds: each takes back its share of the sale's commissions (a reversal and a negative
ledger entry each), waits for a sale Tandem has not processed yet, or is settled without one."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from attribution.ledger import NewEntry
from attribution.models import Commission, CommissionReversal, Conversion, InboundEvent, LedgerEntry
from attribution.outbound import emit_commission_reversals
from attribution.processing.state import ZERO, Event, SetState, Status
from attribution.rewards import refund_reversal, round_money
from core.sql import insert_rows, update_rows

WAIT_FOR_SALE = timedelta(days=7)
# Commissions a refund may still take money back from.
_REVERSIBLE = (
    Commission.Status.PENDING,
    Commission.Status.IN_REVIEW,
    Commission.Status.APPROVED,
    Commission.Status.PAID,
)


def record_refunds(state: SetState, refunds: list[Event]) -> None:
    keys = {e.sale_ref for e in refunds}
    sales: dict[str, Conversion] = {}
    for known in (
        Conversion.objects.filter(workspace_id=state.ws, kind=Conversion.Kind.SALE)
        .filter(Q(event_id__in=keys) | Q(processor_ref__in=keys))
        .order_by("id")
        .select_for_update()
    ):
        sales[known.event_id] = known
        if known.processor_ref:
            sales[known.processor_ref] = known
    unknown = keys - set(sales)
    sale_events: dict[str, dict[str, Any]] = {}
    if unknown:
        for row in (
            InboundEvent.objects.filter(workspace_id=state.ws, kind=InboundEvent.Kind.SALE)
            .filter(Q(event_id__in=unknown) | Q(processor_ref__in=unknown))
            .values("id", "event_id", "processor_ref", "status", "reason")
        ):
            status, reason, _ = state.outcomes.get(row["id"], (row["status"], row["reason"], ""))
            info = {**row, "status": status, "reason": reason}
            sale_events[row["event_id"]] = info
            if row["processor_ref"]:
                sale_events.setdefault(row["processor_ref"], info)
        # A refund naming the second route of a sale counted once refunds the sale that was counted.
        via = {
            info["processor_ref"]
            for key, info in sale_events.items()
            if key in unknown and info["status"] == Status.DUPLICATE and info["processor_ref"]
        }
        if via:
            for counted in (
                Conversion.objects.filter(workspace_id=state.ws, kind=Conversion.Kind.SALE, processor_ref__in=via)
                .order_by("id")
                .select_for_update()
            ):
                for key, info in sale_events.items():
                    if info["processor_ref"] == counted.processor_ref:
                        sales[key] = counted
    sale_ids = {s.pk for s in sales.values()}
    refunded: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])  # sale → [original units, program units]
    commissions: dict[int, list[Commission]] = defaultdict(list)
    if sale_ids:
        for sums in (
            Conversion.objects.filter(workspace_id=state.ws, kind=Conversion.Kind.REFUND, sale_id__in=sale_ids)
            .values("sale_id")
            .annotate(orig=Sum(Coalesce("original_amount", "amount")), prog=Sum("amount"))
        ):
            refunded[sums["sale_id"]] = [sums["orig"], sums["prog"]]
        for commission in (
            Commission.objects.filter(workspace_id=state.ws, kind=Commission.Kind.SALE, conversion_id__in=sale_ids)
            .order_by("id")
            .select_for_update()
        ):
            commissions[cast(int, commission.conversion_id)].append(commission)  # a sale's: never None
    taken_refs = (
        set(
            Conversion.objects.filter(
                workspace_id=state.ws, processor_ref__in={e.processor_ref for e in refunds if e.processor_ref}
            ).values_list("processor_ref", flat=True)
        )
        if any(e.processor_ref for e in refunds)
        else set()
    )

    planned: list[tuple[Event, dict[str, Any], list[tuple[Commission, Decimal]]]] = []
    for event in refunds:
        sale = sales.get(event.sale_ref)
        if sale is None:
            _refund_without_sale(state, event, sale_events.get(event.sale_ref))
            continue
        if event.processor_ref and event.processor_ref in taken_refs:
            state.outcome(
                event, Status.DUPLICATE, f"This refund ({event.processor_ref}) was already counted.", "duplicate_refund"
            )
            continue
        if event.processor_ref:
            taken_refs.add(event.processor_ref)
        plan = _plan_refund(state, event, sale, refunded[sale.pk], commissions[sale.pk])
        if plan is not None:
            planned.append((event, plan[0], plan[1]))
    if not planned:
        return
    inserted = {
        event_id: pk
        for pk, event_id in insert_rows(Conversion, [row for _, row, _ in planned], returning=("id", "event_id"))
    }
    changed: dict[int, Commission] = {}
    reversal_rows = []
    for event, _, reversals in planned:
        refund_id = inserted[event.event_id]
        for commission, amount in reversals:
            changed[commission.pk] = commission
            reversal_rows.append(
                {
                    "workspace_id": state.ws,
                    "commission_id": commission.pk,
                    "refund_id": refund_id,
                    "amount": amount,
                    "currency": commission.currency,
                    "created_at": state.now,
                }
            )
            state.ledger.append(
                NewEntry(
                    partner_id=commission.partner_id,
                    kind=LedgerEntry.Kind.COMMISSION_REVERSED,
                    amount=-amount,
                    currency=commission.currency,
                    reference=f"commission:{commission.pk}",
                    memo=f"Refund {event.event_id}",
                )
            )
    insert_rows(CommissionReversal, reversal_rows)
    update_rows(
        Commission,
        [{"id": c.pk, "reversed_amount": c.reversed_amount, "status": c.status} for c in changed.values()],
        fields=["reversed_amount", "status"],
        where="t.workspace_id = %s",
        where_params=[state.ws],
    )
    emit_commission_reversals(
        state.ws, [(c.pk, amount, event.event_id) for event, _, reversals in planned for c, amount in reversals]
    )


def _refund_without_sale(state: SetState, event: Event, sale_event: dict[str, Any] | None) -> None:
    ref = event.sale_ref
    if sale_event is not None and sale_event["status"] in (Status.UNATTRIBUTED, Status.FAILED):
        state.outcome(
            event,
            Status.UNATTRIBUTED,
            f"Sale {ref} was not attributed to a partner ({sale_event['reason'] or sale_event['status']}), "
            f"so there is no commission to reverse.",
            "sale_unattributed",
        )
    elif sale_event is None and state.now - event.received_at > WAIT_FOR_SALE:
        state.outcome(
            event,
            Status.UNATTRIBUTED,
            f"Sale {ref} never reached Tandem; if it arrives, this refund is applied then.",
            "sale_not_found",
        )
    else:
        state.outcome(event, Status.RECEIVED, f"Waiting for sale {ref}.", "waiting_for_sale")


def _plan_refund(
    state: SetState, event: Event, sale: Conversion, refunded: list[Decimal], commissions: list[Commission]
) -> tuple[dict[str, Any], list[tuple[Commission, Decimal]]] | None:
    """The refund's conversion row and its reversals (commission, amount taken back); None if it takes nothing."""
    converted = sale.original_amount is not None
    sale_orig = sale.original_amount if sale.original_amount is not None else sale.amount
    orig_currency = sale.original_currency if converted else sale.currency
    currency = event.currency or orig_currency
    if currency not in (orig_currency, sale.currency):
        state.outcome(
            event,
            Status.UNATTRIBUTED,
            f"The refund is in {currency} but sale {sale.event_id} was in {orig_currency}.",
            "refund_currency_mismatch",
        )
        return None
    left = sale_orig - refunded[0]
    if left <= 0:
        state.outcome(event, Status.ATTRIBUTED, f"Sale {sale.event_id} was already fully refunded.", "already_refunded")
        return None
    if event.amount is None:
        amount_orig = left
    elif currency == orig_currency:
        amount_orig = min(event.amount, left)
    else:  # given in the program's currency: back to the sale's own at the sale's rate
        amount_orig = min(round_money(event.amount / (sale.fx_rate or Decimal(1)), orig_currency), left)
    full = amount_orig >= left
    if full:
        amount_prog = sale.amount - refunded[1]
    elif converted:
        amount_prog = round_money(amount_orig * (sale.fx_rate or Decimal(1)), sale.currency)
    else:
        amount_prog = amount_orig
    refunded[0] += amount_orig
    refunded[1] += amount_prog
    reversals = []
    for commission in commissions:
        if commission.status not in _REVERSIBLE:
            continue
        left_on_commission = commission.amount - commission.reversed_amount
        back = (
            left_on_commission
            if full
            else refund_reversal(
                commission_amount=commission.amount,
                sale_amount=sale_orig,
                refund_amount=amount_orig,
                already_reversed=commission.reversed_amount,
                currency=commission.currency,
            )
        )
        if back <= 0:
            continue
        commission.reversed_amount += back
        if commission.reversed_amount >= commission.amount and commission.status != Commission.Status.PAID:
            # A paid commission stays paid: the negative ledger entry is carried into the next statement.
            commission.status = Commission.Status.REVERSED
        reversals.append((commission, back))
    state.outcome(event, Status.ATTRIBUTED)
    row = {
        "workspace_id": state.ws,
        "program_id": sale.program_id,
        "referral_id": sale.referral_id,
        "partner_id": sale.partner_id,
        "kind": Conversion.Kind.REFUND,
        "event_id": event.event_id,
        "processor_ref": event.processor_ref,
        "amount": amount_prog,
        "currency": sale.currency,
        "original_amount": amount_orig if converted else None,
        "original_currency": orig_currency if converted else "",
        "fx_rate": sale.fx_rate,
        "occurred_at": event.occurred_at,
        "sale_id": sale.pk,
        "created_at": state.now,
    }
    return row, reversals
