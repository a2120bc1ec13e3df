"""Writes of payouts: closing a period (which issues its statements), paying statements, emailing them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from attribution import settlement
from attribution.models import Commission, CommissionReversal, LedgerEntry
from attribution.rewards import round_money
from partners.models import Partner
from partners.notifications.models import Kind
from partners.notifications.preferences import wants
from partners.notifications.sending import send_partner_email
from partners.payout_methods import payout_methods_for, statement_copy
from reporting.payouts.dates import cutoff_of
from reporting.payouts.models import Payout, PayoutPeriod, Statement, StatementLine
from reporting.payouts.notify import tell_partners_paid
from reporting.payouts.outbound import emit_statements

ZERO = Decimal("0")


@dataclass
class ClosedPeriod:
    period: PayoutPeriod
    created: bool
    statements: list[Statement] = field(default_factory=list)


@dataclass
class Draft:
    """The lines one partner would get in one currency, before the minimum decides."""

    partner_id: int
    currency: str
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    def total_of(self, *kinds: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind in kinds), ZERO)


def _customer(commission: Commission) -> str:
    referral = commission.referral
    if referral is None:  # a bonus a manager added: no customer
        return ""
    return (
        referral.customer_external_id or referral.customer_email or referral.customer_name or f"referral {referral.pk}"
    )


def _commission_line(commission: Commission, *, start: date | None) -> StatementLine:
    day = commission.occurred_at.astimezone(UTC).date()
    rule = commission.reward_rule
    return StatementLine(
        kind=StatementLine.Kind.COMMISSION,
        date=day,
        commission=commission,
        currency=commission.currency,
        description=f"Bonus: {commission.description}"[:255] if commission.is_manual else commission.get_kind_display(),
        customer_reference=_customer(commission)[:200],
        sale_amount=commission.conversion.amount if commission.conversion is not None else None,
        rule=f"{rule.name} v{rule.version}"[:160] if rule is not None else "",
        amount=commission.amount,
        carried=bool(start and day < start),
    )


def _reversal_line(reversal: CommissionReversal, *, start: date | None, paid_before: str | None) -> StatementLine:
    day = reversal.created_at.astimezone(UTC).date()
    description = f"Refund {reversal.refund.event_id}"
    if paid_before:
        # The commission was on an earlier statement: the refund is taken back from this one.
        description += f" (commission on {paid_before})"
    return StatementLine(
        kind=StatementLine.Kind.REVERSAL,
        date=day,
        reversal=reversal,
        commission=None,
        currency=reversal.currency,
        description=description[:255],
        customer_reference=_customer(reversal.commission)[:200],
        sale_amount=-reversal.refund.amount,
        rule="",
        amount=-reversal.amount,
        carried=bool(paid_before) or bool(start and day < start),
    )


def _rejection_line(entry: LedgerEntry, *, statement_number: str) -> StatementLine:
    reason = entry.memo.removeprefix("Rejected: ") if entry.memo else ""
    return StatementLine(
        kind=StatementLine.Kind.REJECTION,
        date=entry.created_at.astimezone(UTC).date(),
        ledger_entry=entry,
        currency=entry.currency,
        description=f"Rejected after {statement_number}: {reason}".rstrip(": ")[:255],
        customer_reference=entry.reference[:200],
        amount=entry.amount,
        carried=True,
    )


def _adjustment_line(entry: LedgerEntry, *, start: date | None) -> StatementLine:
    day = entry.created_at.astimezone(UTC).date()
    return StatementLine(
        kind=StatementLine.Kind.ADJUSTMENT,
        date=day,
        ledger_entry=entry,
        currency=entry.currency,
        description=(entry.memo or "Adjustment")[:255],
        customer_reference=entry.reference[:200],
        amount=entry.amount,
        carried=bool(start and day < start),
    )


def _drafts(
    workspace: Workspace, *, cutoff: datetime, start: date | None, ledger_sequence: int
) -> dict[tuple[int, str], Draft]:
    """Everything payable at the cut-off that no statement has taken yet, per partner and currency."""
    taken = StatementLine.objects.for_workspace(workspace)
    drafts: dict[tuple[int, str], Draft] = {}

    def draft(partner_id: int, currency: str) -> Draft:
        return drafts.setdefault((partner_id, currency), Draft(partner_id, currency))

    commissions = settlement.payable_commissions(workspace=workspace, occurred_before=cutoff).exclude(
        pk__in=taken.filter(kind=StatementLine.Kind.COMMISSION).values("commission_id")
    )
    new_ids: set[int] = set()
    for commission in commissions.order_by("occurred_at", "pk").iterator(chunk_size=2000):
        new_ids.add(commission.pk)
        draft(commission.partner_id, commission.currency).lines.append(_commission_line(commission, start=start))

    reversals = list(
        settlement.reversals_before(workspace=workspace, created_before=cutoff)
        .exclude(pk__in=taken.filter(kind=StatementLine.Kind.REVERSAL).values("reversal_id"))
        .order_by("created_at", "pk")
    )
    # A refund belongs on a statement once its commission is on one: this one, or an earlier one.
    earlier = dict(
        taken.filter(
            kind=StatementLine.Kind.COMMISSION, commission_id__in={r.commission_id for r in reversals}
        ).values_list("commission_id", "statement__number")
    )
    for reversal in reversals:
        if reversal.commission_id in new_ids or reversal.commission_id in earlier:
            line = _reversal_line(reversal, start=start, paid_before=earlier.get(reversal.commission_id))
            draft(reversal.commission.partner_id, reversal.currency).lines.append(line)

    rejections = list(
        settlement.rejections_up_to(workspace=workspace, sequence=ledger_sequence)
        .exclude(pk__in=taken.filter(kind=StatementLine.Kind.REJECTION).values("ledger_entry_id"))
        .order_by("sequence")
    )
    rejected_ids = {cid for entry in rejections if (cid := settlement.commission_id_of(entry)) is not None}
    on_statements: dict[int | None, str] = dict(
        taken.filter(kind=StatementLine.Kind.COMMISSION, commission_id__in=rejected_ids).values_list(
            "commission_id", "statement__number"
        )
    )
    for entry in rejections:
        number = on_statements.get(settlement.commission_id_of(entry))
        if number:  # rejected before any statement took it: earned and rejected cancel out, nothing to show
            draft(entry.partner_id, entry.currency).lines.append(_rejection_line(entry, statement_number=number))

    adjustments = settlement.adjustments_up_to(workspace=workspace, sequence=ledger_sequence).exclude(
        pk__in=taken.filter(kind=StatementLine.Kind.ADJUSTMENT).values("ledger_entry_id")
    )
    for entry in adjustments.order_by("sequence"):
        draft(entry.partner_id, entry.currency).lines.append(_adjustment_line(entry, start=start))
    return drafts


def _meets_minimum(draft: Draft, partner: Partner) -> bool:
    program = partner.program
    return not (draft.currency == program.currency and draft.total < program.minimum_payout)


@dataclass
class PeriodPlan:
    """What closing a period would do: the drafts split into paid, carried over and blocked."""

    start: date | None
    head: settlement.LedgerHead
    partners: dict[int, Partner]
    payable: list[Draft]
    carried: list[Draft]  # a positive balance below the program's minimum payout
    blocked: list[Draft]  # a zero or negative balance (refunds ate the earnings): carries until earnings cover it


def period_start(workspace: Workspace, *, end: date, today: date) -> date | None:
    """The first day of the period ending on `end`, once `end` is known to be closable (else ValidationError)."""
    if end >= today:
        raise ValidationError(
            {"end": f"A period can only be closed once it is over: choose a day before {today:%-d %B %Y}."}
        )
    later = PayoutPeriod.objects.for_workspace(workspace).filter(end__gt=end).order_by("end").first()
    if later is not None:
        raise ValidationError(
            {"end": f"Periods cannot overlap: the period ending {later.end:%-d %B %Y} is already closed."}
        )
    previous = PayoutPeriod.objects.for_workspace(workspace).filter(end__lt=end).order_by("-end").first()
    return previous.end + timedelta(days=1) if previous else None


def plan_period(workspace: Workspace, *, end: date, start: date | None) -> PeriodPlan:
    head = settlement.ledger_head(workspace)
    drafts = _drafts(workspace, cutoff=cutoff_of(end), start=start, ledger_sequence=head.sequence)
    partners = Partner.objects.for_workspace(workspace).select_related("program").in_bulk({pid for pid, _ in drafts})
    plan = PeriodPlan(start=start, head=head, partners=partners, payable=[], carried=[], blocked=[])
    for draft in drafts.values():
        if draft.total <= ZERO:
            plan.blocked.append(draft)
        elif _meets_minimum(draft, partners[draft.partner_id]):
            plan.payable.append(draft)
        else:
            plan.carried.append(draft)
    for group in (plan.payable, plan.carried, plan.blocked):
        group.sort(key=lambda d: (partners[d.partner_id].name.lower(), d.partner_id, d.currency))
    return plan


@transaction.atomic
def close_payout_period(
    *,
    workspace: Workspace,
    end: date,
    by: User | None = None,
    actor_label: str | None = None,
    today: date | None = None,
    email_partners: bool = True,
) -> ClosedPeriod:
    """Close the period ending on `end` and issue one statement per partner and currency.

    Closing an end that is already closed returns that period unchanged. Partners whose balance is
    under the program's minimum (or not positive) get no statement; their lines stay open and carry
    to the next period. Each new statement is emailed to its partner after the commit (with
    `email_partners=False`, e.g. the demo seed, the beat's sweeper sends them later instead).
    """
    today = today or timezone.now().astimezone(UTC).date()
    # One close at a time per workspace: the numbering and "not on a statement yet" depend on it.
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    existing = PayoutPeriod.objects.for_workspace(workspace).filter(end=end).first()
    if existing is not None:
        return ClosedPeriod(existing, created=False, statements=list(existing.statements.all()))
    start = period_start(workspace, end=end, today=today)
    plan = plan_period(workspace, end=end, start=start)
    head, partners, payable = plan.head, plan.partners, plan.payable
    now = timezone.now()
    period = PayoutPeriod.objects.create(
        workspace=workspace,
        start=start,
        end=end,
        closed_at=now,
        closed_by=by,
        closed_by_label=actor_label or (by.email if by else "system"),
    )
    balances = settlement.balances_up_to(
        workspace=workspace, sequence=head.sequence, partner_ids={d.partner_id for d in payable}
    )
    number_base = Statement.objects.for_workspace(workspace).count()
    methods = payout_methods_for(workspace, {d.partner_id for d in payable})

    statements: list[Statement] = []
    for index, draft in enumerate(payable, start=1):
        partner = partners[draft.partner_id]
        # The method as it stood when issued, masked: a statement is a document partners forward.
        payout_method, payout_details = statement_copy(methods.get(partner.pk))
        statements.append(
            Statement(
                workspace=workspace,
                period=period,
                partner=partner,
                currency=draft.currency,
                number=f"ST-{end:%Y%m}-{number_base + index:05d}",
                commission_total=draft.total_of(StatementLine.Kind.COMMISSION),
                reversal_total=draft.total_of(StatementLine.Kind.REVERSAL, StatementLine.Kind.REJECTION),
                adjustment_total=draft.total_of(StatementLine.Kind.ADJUSTMENT),
                total=draft.total,
                line_count=len(draft.lines),
                partner_name=partner.name[:200],
                partner_email=partner.email,
                partner_company=partner.company[:200],
                payout_method=payout_method,
                payout_details=payout_details,
                program_name=partner.program.name[:200],
                ledger_sequence=head.sequence,
                ledger_hash=head.entry_hash,
                ledger_balance=balances.get((partner.pk, draft.currency), ZERO),
                issued_at=now,
            )
        )
    Statement.objects.bulk_create(statements, batch_size=500)
    lines: list[StatementLine] = []
    for statement, draft in zip(statements, payable, strict=True):
        draft.lines.sort(key=lambda line: (line.date, line.kind != StatementLine.Kind.COMMISSION))
        for position, line in enumerate(draft.lines, start=1):
            line.workspace, line.statement, line.position = workspace, statement, position
            lines.append(line)
    StatementLine.objects.bulk_create(lines, batch_size=2000)
    left = {d.partner_id for d in plan.carried + plan.blocked}
    period.carried_partner_count = len(left - {d.partner_id for d in payable})
    period.save(update_fields=["carried_partner_count"])
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=actor_label,
        action="payout_period.closed",
        target=period,
        changes={"end": end.isoformat(), "statements": len(statements)},
    )
    emit_statements(workspace.pk, "statement.issued", statements)

    ids = [statement.pk for statement in statements]
    if email_partners and ids:
        transaction.on_commit(lambda: _enqueue_statement_emails(ids))
    return ClosedPeriod(period, created=True, statements=statements)


def _enqueue_statement_emails(statement_ids: list[int]) -> None:
    from reporting.payouts.tasks import email_statement

    for statement_id in statement_ids:
        email_statement.delay(statement_id)


@transaction.atomic
def mark_statements_paid(
    *,
    workspace: Workspace,
    statement_ids: Iterable[int],
    by: User | None = None,
    actor_label: str | None = None,
    reference: str = "",
) -> list[Statement]:
    """Record the payout of each issued statement: a Payout row, a PAYOUT ledger entry taking the
    amount off the partner's balance, and its commissions moved to paid. Statements already paid are
    left alone, so marking twice changes nothing the second time. Returns the statements newly paid."""
    statements = list(
        Statement.objects.for_workspace(workspace)
        .select_for_update()
        .filter(pk__in=list(statement_ids), status__in=Statement.PAYABLE)
        .order_by("pk")
    )
    if not statements:
        return []
    now = timezone.now()
    entries = settlement.post_payouts(
        workspace=workspace,
        payouts=[
            settlement.PayoutPosting(
                partner_id=s.partner_id,
                amount=s.total,
                currency=s.currency,
                reference=f"statement:{s.pk}",
                memo=f"Payout of statement {s.number}",
            )
            for s in statements
        ],
    )
    Payout.objects.bulk_create(
        [
            Payout(
                workspace=workspace,
                statement=s,
                partner_id=s.partner_id,
                amount=s.total,
                currency=s.currency,
                method=s.payout_method,
                details=s.payout_details,
                reference=reference[:120],
                paid_at=now,
                recorded_by=by,
                ledger_entry=entries[f"statement:{s.pk}"],
            )
            for s in statements
        ]
    )
    commission_ids = (
        StatementLine.objects.for_workspace(workspace)
        .filter(statement__in=statements, kind=StatementLine.Kind.COMMISSION)
        .values_list("commission_id", flat=True)
    )
    settlement.mark_commissions_paid(workspace=workspace, commission_ids=commission_ids, paid_at=now)
    Statement.objects.for_workspace(workspace).filter(pk__in=[s.pk for s in statements]).update(
        status=Statement.Status.PAID, paid_at=now
    )
    for statement in statements:
        statement.status, statement.paid_at = Statement.Status.PAID, now
        record_audit(
            workspace=workspace,
            actor=by,
            actor_label=actor_label,
            action="statement.paid",
            target=statement,
            changes={"amount": str(round_money(statement.total, statement.currency)), "currency": statement.currency},
        )
    emit_statements(workspace.pk, "statement.paid", statements)
    tell_partners_paid(workspace=workspace, statements=statements, reference=reference)
    return statements


@transaction.atomic
def approve_statements(
    *, workspace: Workspace, statement_ids: Iterable[int], by: User | None = None, actor_label: str | None = None
) -> list[Statement]:
    """Approve issued statements for payment (who and when). Approved or paid ones are left alone."""
    statements = list(
        Statement.objects.for_workspace(workspace)
        .select_for_update()
        .filter(pk__in=list(statement_ids), status=Statement.Status.ISSUED)
        .order_by("pk")
    )
    now = timezone.now()
    for statement in statements:
        statement.status, statement.approved_at, statement.approved_by = Statement.Status.APPROVED, now, by
        statement.save(update_fields=["status", "approved_at", "approved_by"])
        record_audit(
            workspace=workspace, actor=by, actor_label=actor_label, action="statement.approved", target=statement
        )
    return statements


def mark_statement_paid(*, statement: Statement, by: User | None = None, reference: str = "") -> bool:
    """Whether this call recorded the payout (False when it was already paid)."""
    return bool(
        mark_statements_paid(workspace=statement.workspace, statement_ids=[statement.pk], by=by, reference=reference)
    )


def send_statement_email(*, statement_id: int) -> bool:
    """Email the partner its statement with the PDF attached, once. Returns whether it was sent now.

    The row lock is held while sending: two workers handed the same statement send it once. If the
    commit fails after a send, the retry sends it again — a duplicate beats a statement never sent.
    """
    from reporting.payouts.pdf import statement_pdf_bytes

    with transaction.atomic():
        statement = (
            Statement.objects.across_workspaces("the task names its statement by id")
            .select_for_update(of=("self",))
            .select_related("workspace", "period")
            .filter(pk=statement_id)
            .first()
        )
        if statement is None or statement.emailed_at is not None:
            return False
        workspace = statement.workspace
        partner = Partner.objects.for_workspace(workspace).filter(pk=statement.partner_id).first()
        if partner is None or not wants(workspace_id=workspace.pk, partner_id=partner.pk, kind=Kind.STATEMENT_ISSUED):
            # The partner turned statement emails off: it reads them on the portal. Marked as done so
            # the sweeper does not try again.
            statement.emailed_at = timezone.now()
            statement.save(update_fields=["emailed_at"])
            return False
        context = {
            "statement": statement,
            "period": statement.period,
            "portal_url": settings.SITE_URL + reverse("portal_statements", args=[workspace.slug]),
        }
        send_partner_email(
            partner=partner,
            to=statement.partner_email,
            kind=Kind.STATEMENT_ISSUED,
            subject=f"Your {workspace.name} statement {statement.number}: "
            f"{round_money(statement.total, statement.currency)} {statement.currency}",
            template="reporting/email/statement_issued",
            context=context,
            attachments=[(f"{statement.number}.pdf", statement_pdf_bytes(statement), "application/pdf")],
        )
        statement.emailed_at = timezone.now()
        statement.save(update_fields=["emailed_at"])
    return True


def unsent_statement_ids(*, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Statements whose email never went out (a worker died, the mail server refused): for the sweeper."""
    cutoff = timezone.now() - older_than
    return list(
        Statement.objects.across_workspaces("beat: unsent statements of every workspace")
        .filter(emailed_at__isnull=True, issued_at__lt=cutoff)
        .values_list("pk", flat=True)[:500]
    )
