"""The state of one set of events while it is processed: what the steps read, decide and write.

Every step of the set (`facts`, `customers`, `leads`, `sales`, `commissions`, `refunds`,
`finish`) is a function over one `SetState`; nothing else is shared between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Workspace
from attribution.engine import Decision, PartnerFact, ProgramFact, ReferralFact, RuleFact
from attribution.ledger import NewEntry
from attribution.models import InboundEvent
from attribution.rewards import RuleTerms

Status = InboundEvent.Status
ZERO = Decimal("0")


@dataclass
class ProcessResult:
    events: int = 0
    attributed: int = 0
    unattributed: int = 0
    waiting: int = 0
    duplicate: int = 0
    failed: int = 0
    commissions: int = 0
    # Other events (refunds) that can go ahead now that their sale is settled.
    woken: list[int] = field(default_factory=list)
    # Events of this set waiting for an earlier event of their customer that another worker holds.
    retry_soon: list[int] = field(default_factory=list)

    def add(self, other: ProcessResult) -> None:
        for name in ("events", "attributed", "unattributed", "waiting", "duplicate", "failed", "commissions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.woken.extend(other.woken)
        self.retry_soon.extend(other.retry_soon)


# The ProcessResult counter of each outcome.
COUNTERS: dict[str, str] = {
    Status.ATTRIBUTED: "attributed",
    Status.UNATTRIBUTED: "unattributed",
    Status.DUPLICATE: "duplicate",
    Status.RECEIVED: "waiting",
    Status.FAILED: "failed",
}


@dataclass(slots=True)
class Event:
    """A received event of the set, as read by the set's query (attribution.processing.SELECT_SET)."""

    pk: int
    event_id: str
    kind: str
    attempts: int
    received_at: datetime
    occurred_at: datetime
    customer: str = ""
    email: str = ""
    amount: Decimal | None = None
    currency: str = ""
    click_id: str | None = None
    code: str | None = None
    partner_id: int | None = None
    processor_ref: str | None = None
    sale_ref: str = ""

    @classmethod
    def of(cls, row: Sequence[Any]) -> Event:
        (
            pk,
            event_id,
            kind,
            attempts,
            received_at,
            sale_ref,
            processor_ref,
            occurred_at,
            customer,
            email,
            amount,
            currency,
            click_id,
            code,
            partner_id,
        ) = row
        return cls(
            pk=pk,
            event_id=event_id,
            kind=kind,
            attempts=attempts,
            received_at=received_at,
            occurred_at=datetime.fromisoformat(occurred_at),
            customer=customer or "",
            email=email or "",
            amount=Decimal(amount) if amount is not None else None,
            currency=currency or "",
            click_id=click_id,
            code=code,
            partner_id=partner_id,
            processor_ref=processor_ref or None,
            sale_ref=sale_ref,
        )

    @property
    def order(self) -> tuple[datetime, int]:
        return self.occurred_at, self.pk


@dataclass(slots=True)
class Ref:
    """A referral this set knows: read from the database, or being created by this set."""

    pk: int | None
    program_id: int
    partner_id: int
    customer: str
    source: str
    customer_email: str = ""
    click_pk: int | None = None
    click_ip_hash: str = ""
    code_pk: int | None = None
    deal_registration_id: int | None = None
    protected_until: datetime | None = None
    converted_at: datetime | None = None
    created_here: bool = False
    decision: Decision | None = None
    click_tclid: str = ""
    clicked_at: datetime | None = None
    code_text: str = ""
    referred_at: datetime | None = None

    @classmethod
    def of(cls, row: Sequence[Any]) -> Ref:
        """From a row of the columns attribution.processing.facts.REFERRAL_VALUES names, in that order."""
        (
            pk,
            program_id,
            partner_id,
            customer,
            source,
            customer_email,
            click_pk,
            click_ip_hash,
            click_tclid,
            clicked_at,
            code_pk,
            code_text,
            deal_registration_id,
            protected_until,
            converted_at,
            referred_at,
        ) = row
        return cls(
            pk=pk,
            program_id=program_id,
            partner_id=partner_id,
            customer=customer,
            source=source,
            customer_email=customer_email,
            click_pk=click_pk,
            click_ip_hash=click_ip_hash or "",
            code_pk=code_pk,
            deal_registration_id=deal_registration_id,
            protected_until=protected_until,
            converted_at=converted_at,
            click_tclid=click_tclid or "",
            clicked_at=clicked_at,
            code_text=code_text or "",
            referred_at=referred_at,
        )

    def fact(self) -> ReferralFact:
        return ReferralFact(
            pk=self.pk or 0,
            partner_id=self.partner_id,
            program_id=self.program_id,
            source=self.source,
            customer_email=self.customer_email,
            click_ip_hash=self.click_ip_hash,
            click_pk=self.click_pk,
            code_pk=self.code_pk,
            deal_registration_id=self.deal_registration_id,
            protected_until=self.protected_until,
            click_id=self.click_tclid,
            clicked_at=self.clicked_at,
            code=self.code_text,
            referred_at=self.referred_at,
        )

    @property
    def saved_pk(self) -> int:
        """The id of a referral in the database, as every sale line's is (sales.record_sales skips the others)."""
        assert self.pk is not None, f"referral of {self.customer} is not saved"
        return self.pk


@dataclass(slots=True)
class ProgramInfo:
    pk: int
    name: str
    currency: str
    hold_days: int
    fact: ProgramFact


@dataclass(slots=True)
class SaleLine:
    """A sale of the set that is owed to a partner, on its way to a conversion and a commission."""

    event: Event
    ref: Ref
    decision: Decision
    program: ProgramInfo
    amount: Decimal
    original_amount: Decimal | None
    fx_rate: Decimal | None
    conversion_id: int | None = None
    rule: RuleFact | None = None


@dataclass(eq=False)
class SetState:
    """One set's events, the facts loaded for them, what was decided, and the rows still to write."""

    workspace: Workspace
    events: list[Event]
    ws: int = 0  # the workspace's id
    now: datetime = field(default_factory=timezone.now)
    # event id → (status, reason, reason code): written to the inbox by finish.finish_set.
    outcomes: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    programs: dict[int, ProgramInfo] = field(default_factory=dict)
    program_facts: dict[int, ProgramFact] = field(default_factory=dict)
    # customer → their referral (read, or created by this set)
    refs: dict[str, Ref] = field(default_factory=dict)
    partners: dict[int, PartnerFact] = field(default_factory=dict)
    rules: list[RuleFact] = field(default_factory=list)
    terms: dict[int, RuleTerms] = field(default_factory=dict)
    # event id → how attribution decided it (leads, and sales of customers who were no referral yet)
    decisions: dict[int, Decision] = field(default_factory=dict)
    # (customer, email) → the decision for later sales of an existing referral, made once
    existing_decisions: dict[tuple[str, str], Decision] = field(default_factory=dict)
    commission_rows: list[dict[str, Any]] = field(default_factory=list)
    commission_memos: list[str] = field(default_factory=list)
    # Beside each commission row: its explanation before encoding (the partner's email reads it).
    commission_explanations: list[dict[str, Any]] = field(default_factory=list)
    # Beside each commission row: what the fraud signals judge it on (attribution.fraud.scoring).
    commission_subjects: list[Any] = field(default_factory=list)
    rule_explanations: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    ledger: list[NewEntry] = field(default_factory=list)
    settled_sale_keys: set[str] = field(default_factory=set)
    settled_customers: set[str] = field(default_factory=set)
    waiting_for_customer: list[int] = field(default_factory=list)
    waiting_for_click: list[Event] = field(default_factory=list)
    result: ProcessResult = field(default_factory=ProcessResult)

    def __post_init__(self) -> None:
        self.ws = self.workspace.pk
        self.result.events = len(self.events)

    def outcome(self, event: Event, status: str, reason: str = "", code: str = "") -> None:
        """Settle (or, with `received`, leave waiting) one event of the set."""
        self.outcomes[event.pk] = (status, reason, code)
        if event.kind in ("lead", "sale") and status != Status.RECEIVED and event.customer:
            self.settled_customers.add(event.customer)
        if event.kind == "sale" and status != Status.RECEIVED:
            self.settled_sale_keys.add(event.event_id)
            if event.processor_ref:
                self.settled_sale_keys.add(event.processor_ref)
