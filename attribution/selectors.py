"""Reads of the attribution app. Every query starts from a workspace; the `*_or_404` helpers are the one
way a view or endpoint loads an event, commission or program, so another workspace's row is simply not found."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Workspace
from accounts.tenancy import get_for_workspace_or_404
from attribution.models import (
    Commission,
    CommissionReversal,
    Conversion,
    ExchangeRate,
    InboundEvent,
    LedgerEntry,
    RewardRule,
)
from core import privacy
from core.currency import round_money
from core.spreadsheets import safe_cell
from partners import selectors as partner_selectors
from partners.models import Partner, Program

# --- One access path per object kind -------------------------------------------------------


def get_event_or_404(workspace: Workspace, *, event_id: str) -> InboundEvent:
    """An event by the sender's own id (what the API names it by)."""
    return get_for_workspace_or_404(InboundEvent.objects, workspace, event_id=event_id)


def get_commission_or_404(workspace: Workspace, commission_id: int, *, partner: Partner | None = None) -> Commission:
    """A commission of the workspace; with `partner`, only one of that partner's (the portal)."""
    rows = _commission_rows()
    if partner is not None:
        rows = rows.filter(partner=partner)
    return get_for_workspace_or_404(rows, workspace, pk=commission_id)


def get_program_or_404(workspace: Workspace, program_id: int) -> Program:
    return partner_selectors.get_program_or_404(workspace, program_id)


# --- Events --------------------------------------------------------------------------------


def conversion_of_event(workspace: Workspace, event: InboundEvent) -> Conversion | None:
    return Conversion.objects.for_workspace(workspace).filter(event_id=event.event_id).first()


def events(workspace: Workspace, *, status: str = "", kind: str = "", search: str = "") -> QuerySet[InboundEvent]:
    rows = InboundEvent.objects.for_workspace(workspace).defer("payload")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if search:
        rows = rows.filter(Q(event_id=search) | Q(customer_external_id=search) | Q(related_event_id=search))
    return rows.order_by("-received_at", "-id")


def event_counts(workspace: Workspace) -> dict[str, int]:
    """How many events are in each state (the filter tabs of the events page)."""
    rows = InboundEvent.objects.for_workspace(workspace).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


# --- Commissions ---------------------------------------------------------------------------


def _commission_rows() -> QuerySet[Commission]:
    return Commission.objects.select_related("partner", "conversion", "reward_rule", "referral")


def commissions(
    workspace: Workspace,
    *,
    partner_id: int | None = None,
    status: str = "",
    program_id: int | None = None,
    earned_from: date | None = None,
    earned_until: date | None = None,
) -> QuerySet[Commission]:
    """The workspace's commissions, newest first; `earned_from`/`earned_until` are days (UTC, both included)
    of the sale or lead that earned them."""
    rows = _commission_rows().filter(workspace=workspace)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    if status:
        rows = rows.filter(status=status)
    if program_id is not None:
        rows = rows.filter(program_id=program_id)
    if earned_from is not None:
        rows = rows.filter(occurred_at__gte=datetime.combine(earned_from, time.min, tzinfo=UTC))
    if earned_until is not None:
        rows = rows.filter(occurred_at__lt=datetime.combine(earned_until + timedelta(days=1), time.min, tzinfo=UTC))
    return rows.order_by("-created_at", "-id")


DECIDABLE = (Commission.Status.PENDING, Commission.Status.APPROVED)


def decidable_commission_ids(rows: QuerySet[Commission]) -> list[int]:
    """The ids among `rows` a manager can still approve or reject ("select all matching")."""
    return list(rows.filter(status__in=DECIDABLE).order_by().values_list("pk", flat=True))


def due_commission_count(workspace: Workspace, *, now: datetime | None = None) -> int:
    """Pending commissions whose hold has ended: what "Approve all due" would approve."""
    now = now or timezone.now()
    return (
        Commission.objects.for_workspace(workspace)
        .filter(status=Commission.Status.PENDING, hold_until__lte=now)
        .count()
    )


COMMISSION_CSV_HEADER = [
    "commission_id",
    "partner",
    "partner_email",
    "program",
    "customer",
    "customer_external_id",
    "kind",
    "sale_event_id",
    "earned_on",
    "amount",
    "refunded",
    "currency",
    "status",
    "hold_until",
    "approved_at",
    "rejection_reason",
]


def commissions_csv(rows: QuerySet[Commission]) -> Iterator[str]:
    """The commissions as CSV lines, cells made safe for spreadsheets (streamed: any size)."""

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    yield writer.writerow(COMMISSION_CSV_HEADER)
    for c in rows.select_related("program").iterator(chunk_size=2000):
        referral = c.referral
        yield writer.writerow(
            [
                safe_cell(value)
                for value in (
                    c.pk,
                    c.partner.name,
                    c.partner.email,
                    c.program.name,
                    privacy.customer_for_staff(referral) if referral else "",
                    referral.customer_external_id if referral else "",
                    c.get_kind_display(),
                    c.conversion.event_id if c.conversion else "",
                    c.occurred_at.astimezone(UTC).date().isoformat(),
                    str(round_money(c.amount, c.currency)),
                    str(round_money(c.reversed_amount, c.currency)),
                    c.currency,
                    c.get_status_display(),
                    c.hold_until.astimezone(UTC).date().isoformat() if c.hold_until else "",
                    c.approved_at.astimezone(UTC).isoformat(timespec="seconds") if c.approved_at else "",
                    c.rejection_reason,
                )
            ]
        )


def commissions_of_conversion(workspace: Workspace, conversion: Conversion) -> QuerySet[Commission]:
    return _commission_rows().filter(workspace=workspace, conversion=conversion).order_by("id")


def partner_commissions(workspace: Workspace, partner: Partner, *, status: str = "") -> QuerySet[Commission]:
    """A partner's own commissions, for the portal."""
    return commissions(workspace, partner_id=partner.pk, status=status)


@dataclass(frozen=True)
class StatusTotal:
    status: str
    label: str
    count: int
    amount: Decimal
    currency: str


def commission_totals(
    workspace: Workspace, *, partner: Partner | None = None, rows: QuerySet[Commission] | None = None
) -> list[StatusTotal]:
    """Count and amount per status and currency (the summary cards of the commission pages): what is still
    owed for pending, approved and paid ones (less refunds), what was rejected or reversed for the others.
    `rows` narrows it to a filtered list (already scoped to the workspace)."""
    rows = Commission.objects.for_workspace(workspace) if rows is None else rows.filter(workspace=workspace)
    if partner is not None:
        rows = rows.filter(partner=partner)
    labels = dict(Commission.Status.choices)
    order = {status: i for i, status in enumerate(Commission.Status.values)}
    totals = (
        rows.values("status", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), back=Sum("reversed_amount"))
        .order_by()
    )
    gross = {Commission.Status.REJECTED, Commission.Status.REVERSED}
    out = [
        StatusTotal(
            row["status"],
            str(labels.get(row["status"], row["status"])),
            row["n"],
            row["total"] if row["status"] in gross else row["total"] - row["back"],
            row["currency"],
        )
        for row in totals
    ]
    return sorted(out, key=lambda t: (order.get(t.status, 99), t.currency))


def ledger_of_commission(workspace: Workspace, commission: Commission) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.for_workspace(workspace)
        .filter(reference=f"commission:{commission.pk}")
        .order_by("sequence")
    )


def reversals_of_commission(workspace: Workspace, commission: Commission) -> QuerySet[CommissionReversal]:
    return (
        CommissionReversal.objects.for_workspace(workspace)
        .filter(commission=commission)
        .select_related("refund")
        .order_by("created_at", "id")
    )


# --- Rules and rates -------------------------------------------------------------------------


def reward_rules(workspace: Workspace, program: Program) -> QuerySet[RewardRule]:
    return (
        RewardRule.objects.for_workspace(workspace)
        .filter(program=program)
        .select_related("program", "group", "created_by")
    )


def current_rules(workspace: Workspace, program: Program) -> list[RewardRule]:
    """Per rule (the program's and each group override), the newest version: the one in effect or scheduled."""
    newest: dict[str, RewardRule] = {}
    for rule in reward_rules(workspace, program).order_by("rule_key", "-effective_from", "-version"):
        newest.setdefault(str(rule.rule_key), rule)
    return sorted(newest.values(), key=lambda r: (r.group is not None, r.group.name if r.group else ""))


def exchange_rates(
    workspace: Workspace, *, day: date | None = None, from_currency: str | None = None, to_currency: str | None = None
) -> QuerySet[ExchangeRate]:
    rows = ExchangeRate.objects.for_workspace(workspace)
    if day is not None:
        rows = rows.filter(date=day)
    if from_currency:
        rows = rows.filter(from_currency=from_currency.strip().upper())
    if to_currency:
        rows = rows.filter(to_currency=to_currency.strip().upper())
    return rows.order_by("-date", "from_currency", "to_currency")
