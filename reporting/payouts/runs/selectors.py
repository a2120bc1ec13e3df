"""Reads of payout runs for the pages: runs of a workspace, and a run's items grouped as finance reads them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import Workspace
from reporting.payouts.models import PayoutPeriod, Statement
from reporting.payouts.runs.models import PayoutRun, PayoutRunItem
from reporting.payouts.runs.rules import method_label
from reporting.payouts.runs.services import items_of

Item = PayoutRunItem


@dataclass
class MethodGroup:
    """The items one method pays, with a total per currency."""

    method: str
    label: str
    items: list[PayoutRunItem] = field(default_factory=list)

    @property
    def totals(self) -> list[tuple[str, Decimal]]:
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for item in self.items:
            sums[item.currency] += item.amount
        return sorted(sums.items())

    @property
    def confirmable(self) -> bool:
        """Whether finance has something here to confirm (a tick box per waiting item)."""
        return any(item.status == Item.Status.AWAITING_CONFIRMATION for item in self.items)


@dataclass
class RunView:
    run: PayoutRun
    groups: list[MethodGroup]
    blocked: list[PayoutRunItem]
    counts: dict[str, int]

    @property
    def totals(self) -> list[tuple[str, Decimal]]:
        """What the run pays, per currency (blocked statements left out)."""
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for group in self.groups:
            for currency, total in group.totals:
                sums[currency] += total
        return sorted(sums.items())

    @property
    def payable_count(self) -> int:
        return sum(len(g.items) for g in self.groups)

    @property
    def done_count(self) -> int:
        return self.counts.get(Item.Status.PAID, 0)

    @property
    def waiting_count(self) -> int:
        return self.counts.get(Item.Status.AWAITING_CONFIRMATION, 0)

    @property
    def failed_count(self) -> int:
        return self.counts.get(Item.Status.FAILED, 0)

    @property
    def in_flight(self) -> bool:
        return bool(self.counts.get(Item.Status.PENDING, 0) + self.counts.get(Item.Status.SENDING, 0)) and (
            self.run.status == PayoutRun.Status.EXECUTING
        )

    @property
    def percent_done(self) -> int:
        return self.done_count * 100 // self.payable_count if self.payable_count else 100

    def _sent_by_file(self, method: str) -> bool:
        return self.run.status != PayoutRun.Status.DRAFT and any(
            g.method == method
            and any(i.status in (Item.Status.AWAITING_CONFIRMATION, Item.Status.PAID) for i in g.items)
            for g in self.groups
        )

    @property
    def has_sepa(self) -> bool:
        return self._sent_by_file("sepa")

    @property
    def has_paypal(self) -> bool:
        return self._sent_by_file("paypal")


ORDER = ["stripe_connect", "sepa", "paypal", "manual"]


def runs(workspace: Workspace) -> QuerySet[PayoutRun]:
    return PayoutRun.objects.for_workspace(workspace).order_by("-created_at", "-id")


def run_view(run: PayoutRun) -> RunView:
    items = list(
        items_of(run).select_related("statement", "partner").order_by("statement__partner_name", "statement_id")
    )
    groups: dict[str, MethodGroup] = {}
    blocked: list[PayoutRunItem] = []
    counts: defaultdict[str, int] = defaultdict(int)
    for item in items:
        counts[item.status] += 1
        if item.status == Item.Status.BLOCKED:
            blocked.append(item)
        elif item.status != Item.Status.CANCELLED:
            groups.setdefault(item.method, MethodGroup(item.method, method_label(item.method))).items.append(item)
    ordered = sorted(groups.values(), key=lambda g: ORDER.index(g.method) if g.method in ORDER else len(ORDER))
    return RunView(run=run, groups=ordered, blocked=blocked, counts=dict(counts))


def periods_with_payable_statements(workspace: Workspace) -> list[PayoutPeriod]:
    """Periods with statements still to pay, the latest first: what a new run can be started for."""
    ids = (
        Statement.objects.for_workspace(workspace)
        .filter(status__in=Statement.PAYABLE)
        .values_list("period_id", flat=True)
        .distinct()
    )
    return list(PayoutPeriod.objects.for_workspace(workspace).filter(pk__in=ids).order_by("-end"))
