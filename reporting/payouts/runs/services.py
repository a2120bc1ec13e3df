"""Writes of payout runs: prepare one (the preview), execute it, confirm what left by file, mark paid.

A statement is paid at most once whatever happens: a statement is in one live run at most (a
database constraint), Stripe transfers carry an idempotency key derived from the statement (a retry
after a killed worker or a timeout gets the same transfer back), and every payment is recorded by
`mark_statements_paid`, which pays only statements not yet paid, under a row lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from reporting.payouts.models import Payout, PayoutPeriod, Statement
from reporting.payouts.runs import rules
from reporting.payouts.runs.models import PayoutRun, PayoutRunItem
from reporting.payouts.statements import mark_statements_paid

Item = PayoutRunItem
BY_FILE = (rules.SEPA, rules.PAYPAL, rules.MANUAL)  # paid outside Tandem, then confirmed by finance


@dataclass(frozen=True)
class Actor:
    """Who acted, for the audit log: a signed-in user, or an API key by its name."""

    user: User | None = None
    label: str | None = None


def items_of(run: PayoutRun) -> QuerySet[PayoutRunItem]:
    return PayoutRunItem.objects.filter(workspace_id=run.workspace_id, run_id=run.id)


def payable_statements(workspace: Workspace) -> QuerySet[Statement]:
    return Statement.objects.for_workspace(workspace).filter(status__in=Statement.PAYABLE)


def _chosen_statements(
    workspace: Workspace, *, period: PayoutPeriod | None, statement_ids: list[int] | None
) -> list[Statement]:
    if statement_ids is not None:
        wanted = set(statement_ids)
        if not wanted:
            raise ValidationError({"statement_ids": ["Name at least one statement."]})
        found = {s.pk: s for s in Statement.objects.for_workspace(workspace).filter(pk__in=wanted)}
        if missing := sorted(wanted - set(found)):
            raise ValidationError({"statement_ids": [f"No statement with id {', '.join(map(str, missing))}."]})
        if paid := sorted(s.number for s in found.values() if not s.is_payable):
            raise ValidationError({"statement_ids": [f"Already paid: {', '.join(paid)}."]})
        return sorted(found.values(), key=lambda s: s.pk)
    if period is None:
        raise ValidationError({"period": ["Name a period, or the statements to pay."]})
    statements = list(payable_statements(workspace).filter(period=period).order_by("pk"))
    if not statements:
        raise ValidationError({"period": ["Every statement of this period is paid already: there is nothing to pay."]})
    return statements


def _supersede_previews(workspace: Workspace, statements: list[Statement]) -> None:
    """A new preview replaces older previews of the same statements: nothing was paid by those, so their
    items are taken out (and a preview left with nothing is cancelled) instead of blocking the new run."""
    stale = PayoutRunItem.objects.for_workspace(workspace).filter(
        statement__in=statements,
        status=Item.Status.PENDING,
        run_id__in=PayoutRun.objects.for_workspace(workspace).filter(status=PayoutRun.Status.DRAFT).values("id"),
    )
    run_ids = set(stale.values_list("run_id", flat=True))
    if not run_ids:
        return
    stale.update(status=Item.Status.CANCELLED, blocked_reason="Replaced by a newer preview of the same statement.")
    still_live = set(
        PayoutRunItem.objects.for_workspace(workspace)
        .filter(run_id__in=run_ids, status=Item.Status.PENDING)
        .values_list("run_id", flat=True)
    )
    PayoutRun.objects.for_workspace(workspace).filter(id__in=run_ids - still_live).update(
        status=PayoutRun.Status.CANCELLED, finished_at=timezone.now()
    )


@transaction.atomic
def prepare_payout_run(
    *,
    workspace: Workspace,
    period: PayoutPeriod | None = None,
    statement_ids: Iterable[int] | None = None,
    actor: Actor = Actor(),
) -> PayoutRun:
    """A new run in preview: each statement with the method that would pay it, or why it cannot be paid.

    A statement already in another live run is blocked here, saying which run holds it.
    """
    ids = None if statement_ids is None else [int(i) for i in statement_ids]
    # One run prepared at a time per workspace: "already in another run" must not race.
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    statements = _chosen_statements(workspace, period=period, statement_ids=ids)
    _supersede_previews(workspace, statements)
    held = dict(
        PayoutRunItem.objects.for_workspace(workspace)
        .filter(statement__in=statements, status__in=Item.LIVE)
        .values_list("statement_id", "run_id")
    )
    decisions = rules.decide_all(workspace, statements)
    run = PayoutRun.objects.create(
        workspace=workspace,
        period=period
        if period is not None
        else statements[0].period
        if len({s.period_id for s in statements}) == 1
        else None,
        created_by=actor.user,
        created_by_label=actor.label or (actor.user.email if actor.user else "system"),
        created_at=timezone.now(),
    )
    items = []
    for statement in statements:
        decision = decisions[statement.pk]
        reason = f"Already in payout run {held[statement.pk]}." if statement.pk in held else decision.blocked_reason
        items.append(
            PayoutRunItem(
                workspace=workspace,
                run_id=run.id,
                statement=statement,
                partner_id=statement.partner_id,
                amount=statement.total,
                currency=statement.currency,
                method=decision.method,
                destination=decision.destination[:200],
                status=Item.Status.BLOCKED if reason else Item.Status.PENDING,
                blocked_reason=reason[:300],
            )
        )
    PayoutRunItem.objects.bulk_create(items, batch_size=1000)
    record_audit(
        workspace=workspace,
        actor=actor.user,
        actor_label=actor.label,
        action="payout_run.prepared",
        target=run,
        changes={"statements": len(items), "blocked": sum(1 for i in items if i.blocked_reason)},
    )
    return run


def _recheck_methods(run: PayoutRun) -> None:
    """Between preview and execution a partner may have changed its method: such items wait for a new run."""
    pending = list(items_of(run).filter(status=Item.Status.PENDING).select_related("statement"))
    if not pending:
        return
    decisions = rules.decide_all(run.workspace, [item.statement for item in pending])
    for item in pending:
        decision = decisions[item.statement_id]
        if not item.statement.is_payable:
            item.status = Item.Status.CANCELLED
            item.blocked_reason = "Marked paid outside this run after the preview: not paid again."
            item.save(update_fields=["status", "blocked_reason"])
        elif decision.blocked_reason or decision.method != item.method:
            item.status = Item.Status.BLOCKED
            item.blocked_reason = (
                decision.blocked_reason
                or "The partner changed its payout method after the preview: pay it in a new run."
            )[:300]
            item.save(update_fields=["status", "blocked_reason"])


@transaction.atomic
def execute_payout_run(*, run: PayoutRun, actor: Actor = Actor(), queue: str | None = None) -> PayoutRun:
    """Start paying, or carry on: Stripe items go to a worker, file items wait for finance's confirmation.

    Safe to call again at any time: paid items are left alone, items a worker was sending are sent
    again with the same idempotency key, and failed ones are tried again.
    """
    run = PayoutRun.objects.select_for_update().get(workspace_id=run.workspace_id, id=run.id)
    if run.status in (PayoutRun.Status.DONE, PayoutRun.Status.CANCELLED):
        return run
    now = timezone.now()
    if run.status == PayoutRun.Status.DRAFT:
        _recheck_methods(run)
        run.executed_at = now
        items_of(run).filter(status=Item.Status.PENDING, method__in=BY_FILE).update(
            status=Item.Status.AWAITING_CONFIRMATION
        )
        record_audit(
            workspace=run.workspace, actor=actor.user, actor_label=actor.label, action="payout_run.executed", target=run
        )
    retried = items_of(run).filter(status=Item.Status.FAILED).update(status=Item.Status.PENDING)
    if retried and run.status != PayoutRun.Status.DRAFT:
        record_audit(
            workspace=run.workspace,
            actor=actor.user,
            actor_label=actor.label,
            action="payout_run.retried",
            target=run,
            changes={"items": retried},
        )
    run.status = PayoutRun.Status.EXECUTING
    run.save(update_fields=["status", "executed_at"])
    if items_of(run).filter(status__in=(Item.Status.PENDING, Item.Status.SENDING)).exists():
        workspace_id, run_id = run.workspace_id, run.id
        transaction.on_commit(lambda: _enqueue_payment(workspace_id, run_id, queue))
    else:
        settle_run_status(run)
    return run


def _enqueue_payment(workspace_id: int, run_id: int, queue: str | None) -> None:
    from reporting.payouts.runs.tasks import pay_payout_run

    pay_payout_run.apply_async(args=[workspace_id, run_id], queue=queue)


def settle_run_status(run: PayoutRun) -> PayoutRun:
    """The run's status from its items': paying while any is on its way, then what finance must do next."""
    statuses = set(items_of(run).values_list("status", flat=True))
    if run.status in (PayoutRun.Status.DRAFT, PayoutRun.Status.CANCELLED):
        return run
    if statuses & {Item.Status.PENDING, Item.Status.SENDING}:
        status = PayoutRun.Status.EXECUTING
    elif Item.Status.FAILED in statuses:
        status = PayoutRun.Status.NEEDS_ATTENTION
    elif Item.Status.AWAITING_CONFIRMATION in statuses:
        status = PayoutRun.Status.AWAITING_CONFIRMATION
    else:
        status = PayoutRun.Status.DONE
    finished = timezone.now() if status == PayoutRun.Status.DONE else None
    PayoutRun.objects.filter(workspace_id=run.workspace_id, id=run.id).update(status=status, finished_at=finished)
    run.status, run.finished_at = status, finished
    return run


def record_items_paid(
    items: list[tuple[PayoutRunItem, str]], *, reference: str, actor: Actor, workspace: Workspace
) -> int:
    """Pay these items' statements (Payout, ledger entry, commissions paid, the partner told) and the
    items, each with its own reference (a transfer id). Call inside a transaction.

    One `mark_statements_paid` for the lot (`reference` is what the partner's email quotes), then each
    payout gets its item's reference and method. A statement paid before (by hand, or by this same
    item on an earlier try) is not paid again, and its item is marked paid all the same. Returns how
    many statements were paid now.
    """
    if not items:
        return 0
    by_statement = {item.statement_id: (item, ref[:120]) for item, ref in items}
    paid = mark_statements_paid(
        workspace=workspace,
        statement_ids=list(by_statement),
        by=actor.user,
        actor_label=actor.label,
        reference=reference,
    )
    payouts = list(Payout.objects.for_workspace(workspace).filter(statement_id__in=[s.pk for s in paid]))
    for payout in payouts:
        # The run knows the method the money left by and its reference; the statement only what was on file.
        item, ref = by_statement[payout.statement_id]
        payout.method, payout.details, payout.reference = item.method, item.destination, ref
    Payout.objects.for_workspace(workspace).bulk_update(payouts, ["method", "details", "reference"], batch_size=500)
    now = timezone.now()
    for item, ref in by_statement.values():
        item.status, item.reference, item.paid_at, item.error_message = Item.Status.PAID, ref, now, ""
    PayoutRunItem.objects.for_workspace(workspace).bulk_update(
        [item for item, _ in by_statement.values()], ["status", "reference", "paid_at", "error_message"], batch_size=500
    )
    return len(paid)


@transaction.atomic
def confirm_payout_items(
    *, run: PayoutRun, statement_ids: Iterable[int] | None = None, reference: str = "", actor: Actor = Actor()
) -> list[PayoutRunItem]:
    """Finance says the bank file, the PayPal batch or the manual payments went out: those statements are paid.

    Without `statement_ids`, every item waiting for confirmation is confirmed. Returns the items paid now.
    """
    run = PayoutRun.objects.select_for_update().get(workspace_id=run.workspace_id, id=run.id)
    waiting = items_of(run).filter(status=Item.Status.AWAITING_CONFIRMATION).select_related("workspace")
    if statement_ids is not None:
        waiting = waiting.filter(statement_id__in=list(statement_ids))
    confirmed = list(waiting.order_by("statement_id"))
    default = {rules.SEPA: f"SEPA file of payout run {run.id}", rules.PAYPAL: f"PayPal batch of payout run {run.id}"}
    record_items_paid(
        [(item, reference.strip() or default.get(item.method, f"Payout run {run.id}")) for item in confirmed],
        reference=reference.strip() or f"Payout run {run.id}",
        actor=actor,
        workspace=run.workspace,
    )
    if confirmed:
        record_audit(
            workspace=run.workspace,
            actor=actor.user,
            actor_label=actor.label,
            action="payout_run.confirmed",
            target=run,
            changes={"items": len(confirmed)},
        )
    settle_run_status(run)
    return confirmed


@transaction.atomic
def cancel_payout_run(*, run: PayoutRun, actor: Actor = Actor()) -> PayoutRun:
    """Take every unpaid item out of the run (its statements may go in another); paid ones stay paid."""
    run = PayoutRun.objects.select_for_update().get(workspace_id=run.workspace_id, id=run.id)
    if items_of(run).filter(status=Item.Status.SENDING).exists():
        raise ValidationError("Stripe transfers are on their way: wait until they finish, then cancel.")
    items_of(run).exclude(status=Item.Status.PAID).update(status=Item.Status.CANCELLED)
    paid = items_of(run).filter(status=Item.Status.PAID).exists()
    run.status = PayoutRun.Status.DONE if paid else PayoutRun.Status.CANCELLED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    record_audit(
        workspace=run.workspace, actor=actor.user, actor_label=actor.label, action="payout_run.cancelled", target=run
    )
    return run


def stalled_runs(*, older_than: timedelta = timedelta(minutes=5)) -> list[tuple[int, int]]:
    """(workspace id, run id) of runs still paying a while after execution: their worker may have died."""
    cutoff = timezone.now() - older_than
    return list(
        PayoutRun.objects.across_workspaces("the beat's sweep of runs left paying")
        .filter(status=PayoutRun.Status.EXECUTING, executed_at__lt=cutoff)
        .values_list("workspace_id", "id")
        .order_by("executed_at")[:200]
    )
