"""Random sequences of leads, sales, duplicates, refunds (some before their sale) and approvals.

After every step: each partner's ledger balance is the sum of its entries and matches its commissions,
no event is counted twice, and no reversal exceeds what it reverses. At the end, the same inbox
replayed from scratch into a fresh workspace (same arrivals, processed at the same moments) gives
every partner the same ledger amounts.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import Workspace
from attribution.inbox import IncomingEvent, accept_events
from attribution.ledger import verify_chain
from attribution.models import Commission, CommissionReversal, Conversion, InboundEvent, LedgerEntry
from attribution.processing import process_pending
from attribution.services import approve_commissions
from partners.models import Partner
from partners.services import ensure_default_program
from tests.partners.factories import PartnerFactory

START = datetime(2026, 1, 1, tzinfo=UTC)
PARTNERS = 3
CUSTOMERS = 5
_workspaces = itertools.count(1)


@dataclass(frozen=True)
class Sent:
    """An event as the machine generated it, independent of any workspace's partner ids."""

    kind: str
    event_id: str
    at: int  # minutes after START, so every run orders events the same way
    customer: str = ""
    partner: int | None = None
    cents: int | None = None
    sale_event_id: str = ""

    def materialise(self, partners: list[Partner]) -> IncomingEvent:
        return IncomingEvent(
            kind=self.kind,
            event_id=self.event_id,
            occurred_at=START + timedelta(minutes=self.at),
            customer_external_id=self.customer or None,
            partner_id=partners[self.partner].pk if self.partner is not None else None,
            amount=Decimal(self.cents) / 100 if self.cents is not None else None,
            currency="USD" if self.kind == "sale" else None,
            sale_event_id=self.sale_event_id or None,
        )


def make_world() -> tuple[Workspace, list[Partner]]:
    n = next(_workspaces)
    workspace = Workspace.objects.create(slug=f"machine-{n}", name=f"Machine {n}")
    program = ensure_default_program(workspace=workspace)
    partners = [
        PartnerFactory(workspace=workspace, program=program, email=f"p{i}@machine.test") for i in range(PARTNERS)
    ]
    return workspace, partners


def ledger_by_partner(workspace: Workspace, partners: list[Partner]) -> list[Decimal]:
    sums = dict(
        LedgerEntry.objects.for_workspace(workspace)
        .values("partner_id")
        .annotate(t=Sum("amount"))
        .values_list("partner_id", "t")
    )
    return [sums.get(p.pk) or Decimal("0") for p in partners]


class InboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.workspace, self.partners = make_world()
        self.clock = 0
        self.ids = itertools.count(1)
        self.script: list[list[Sent] | None] = []  # accepted lists, and None where processing ran
        self.sales: list[Sent] = []  # sales sent, for refunds and duplicates
        self.sent: list[Sent] = []
        self.late_sales: list[Sent] = []  # sales whose refund was sent first

    def _send(self, *events: Sent) -> None:
        receipts = accept_events(
            workspace=self.workspace, events=[e.materialise(self.partners) for e in events], source="api"
        )
        for event, receipt in zip(events, receipts, strict=True):
            assert receipt.status == ("duplicate" if event in self.sent else "accepted")
            self.sent.append(event)
        self.script.append(list(events))

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    @initialize(partners=st.lists(st.integers(0, PARTNERS - 1), min_size=CUSTOMERS - 2, max_size=CUSTOMERS - 2))
    def some_customers_are_referred_first(self, partners: list[int]) -> None:
        # Most customers are referrals before they buy, as in life; the last two may not be.
        self._send(
            *(
                Sent("lead", f"lead-{next(self.ids)}", self._tick(), customer=f"c{i}", partner=p)
                for i, p in enumerate(partners)
            )
        )
        self.process()

    @rule(customer=st.integers(0, CUSTOMERS - 1), partner=st.integers(0, PARTNERS - 1))
    def lead(self, customer: int, partner: int) -> None:
        self._send(Sent("lead", f"lead-{next(self.ids)}", self._tick(), customer=f"c{customer}", partner=partner))

    @rule(customer=st.integers(0, CUSTOMERS - 1), cents=st.integers(1, 500_00))
    def sale(self, customer: int, cents: int) -> None:
        event = Sent("sale", f"sale-{next(self.ids)}", self._tick(), customer=f"c{customer}", cents=cents)
        self.sales.append(event)
        self._send(event)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        self._send(data.draw(st.sampled_from(self.sent)))

    @precondition(lambda self: self.sales)
    @rule(data=st.data(), cents=st.one_of(st.none(), st.integers(1, 600_00)))
    def refund(self, data: st.DataObject, cents: int | None) -> None:
        sale = data.draw(st.sampled_from(self.sales))
        self._send(Sent("refund", f"refund-{next(self.ids)}", self._tick(), sale_event_id=sale.event_id, cents=cents))

    @rule(customer=st.integers(0, CUSTOMERS - 1), cents=st.integers(1, 500_00), share=st.integers(1, 100))
    def refund_before_its_sale(self, customer: int, cents: int, share: int) -> None:
        sale = Sent("sale", f"sale-{next(self.ids)}", self._tick(), customer=f"c{customer}", cents=cents)
        self._send(
            Sent(
                "refund",
                f"refund-{next(self.ids)}",
                self._tick(),
                sale_event_id=sale.event_id,
                cents=max(1, cents * share // 100),
            )
        )
        self.late_sales.append(sale)

    @precondition(lambda self: self.late_sales)
    @rule()
    def the_late_sale_arrives(self) -> None:
        sale = self.late_sales.pop(0)
        self.sales.append(sale)
        self._send(sale)

    @rule()
    def process_more(self) -> None:
        self.process()

    def process(self) -> None:
        process_pending(workspace=self.workspace)
        self.script.append(None)

    @rule()
    def approve_due(self) -> None:
        approve_commissions(workspace=self.workspace, due=True, by=None, now=START + timedelta(days=3650))

    # -- invariants --

    @invariant()
    def balances_are_the_sum_of_entries_and_match_the_commissions(self) -> None:
        entries = ledger_by_partner(self.workspace, self.partners)
        for partner, from_entries in zip(self.partners, entries, strict=True):
            net = sum(
                (c.net_amount for c in Commission.objects.for_workspace(self.workspace).filter(partner=partner)),
                Decimal("0"),
            )
            assert from_entries == net, f"{partner.email}: ledger {from_entries} != commissions {net}"

    @invariant()
    def no_event_is_counted_twice(self) -> None:
        ws = self.workspace
        assert InboundEvent.objects.for_workspace(ws).count() == len({e.event_id for e in self.sent})
        attributed_sales = InboundEvent.objects.for_workspace(ws).filter(kind="sale", status="attributed").count()
        assert Conversion.objects.for_workspace(ws).filter(kind="sale").count() == attributed_sales
        per_conversion = defaultdict(int)
        for conversion_id in (
            Commission.objects.for_workspace(ws).filter(kind="sale").values_list("conversion_id", flat=True)
        ):
            per_conversion[conversion_id] += 1
        assert all(n == 1 for n in per_conversion.values())
        assert (
            Commission.objects.for_workspace(ws).filter(kind="lead").count() == 0
        )  # the default rule has no lead reward

    @invariant()
    def reversals_never_exceed_what_they_reverse(self) -> None:
        ws = self.workspace
        reversed_by_refunds = dict(
            CommissionReversal.objects.for_workspace(ws)
            .values("commission_id")
            .annotate(t=Sum("amount"))
            .values_list("commission_id", "t")
        )
        for commission in Commission.objects.for_workspace(ws):
            assert Decimal("0") <= commission.reversed_amount <= commission.amount
            assert reversed_by_refunds.get(commission.pk, Decimal("0")) == commission.reversed_amount
            if commission.reversed_amount == commission.amount and commission.amount > 0:
                assert commission.status == "reversed"
        for sale in Conversion.objects.for_workspace(ws).filter(kind="sale"):
            refunds = list(sale.refunds.values_list("amount", flat=True))
            refunded = sum(refunds, Decimal("0"))
            assert refunded <= sale.amount
            for commission in sale.commissions.all():
                # In proportion to what was refunded, to the cent per refund; all of it once the sale is refunded.
                expected = commission.amount * refunded / sale.amount
                assert abs(commission.reversed_amount - expected) <= Decimal("0.01") * len(refunds)
                if refunded == sale.amount:
                    assert commission.reversed_amount == commission.amount

    def teardown(self) -> None:
        self.process()
        self.balances_are_the_sum_of_entries_and_match_the_commissions()
        self.no_event_is_counted_twice()
        self.reversals_never_exceed_what_they_reverse()
        assert verify_chain(self.workspace)[1] is None
        # The same arrivals, processed at the same moments, in a workspace of their own.
        replay, partners = make_world()
        for step in self.script:
            if step is None:
                process_pending(workspace=replay)
            else:
                accept_events(workspace=replay, events=[e.materialise(partners) for e in step], source="api")
        assert ledger_by_partner(replay, partners) == ledger_by_partner(self.workspace, self.partners)


@pytest.mark.django_db
def test_the_inbox_keeps_the_ledger_exact_whatever_the_order_of_events() -> None:
    run_state_machine_as_test(
        InboxMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,  # no .hypothesis/ directory in the checkout
        ),
    )
