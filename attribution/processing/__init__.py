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
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Iterable, Sequence, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Min, Q, Sum
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from core.memory import gc_paused
from accounts.models import Workspace
from attribution import click_wait, engine, reopen
from attribution.engine import ClickFact, CodeFact, CustomerFacts, Decision, PartnerFact, ProgramFact, ReferralFact, RuleFact
from attribution.inbox import enqueue_on_commit
from attribution.ledger import NewEntry, post_entries
from attribution.models import Commission, CommissionReversal, Conversion, ExchangeRate, InboundEvent, LedgerEntry, RewardRule
from referrals.writes import NewReferral, bind_deal_referral, create_referrals, mark_referrals_converted
from attribution.rewards import Award, RuleTerms, refund_reversal, round_money, sale_reward
from attribution.rules import ensure_default_reward_rules, terms_of
from core.sql import EncodedJson, fetch_rows, insert_rows, update_rows
from partners.models import Partner, Program
from referrals.models import Click, DealRegistration, Referral, ReferralCode
from referrals.services import email_domain

logger = logging.getLogger(__name__)

# Events per set (and per task): large enough that a set's fixed queries and its turn at the
# workspace's ledger lock are a small share of its time, small enough to stay a short transaction.
CHUNK = 5000
MAX_ATTEMPTS = 5
WAIT_FOR_SALE = timedelta(days=7)
Status = InboundEvent.Status
ZERO = Decimal("0")

_SOURCE = {
    "link": Referral.Source.LINK,
    "code": Referral.Source.CODE,
    "manual": Referral.Source.MANUAL,
    "deal_registration": Referral.Source.DEAL_REGISTRATION,
}
# The parts of a commission's explanation that many commissions of a set share, the same objects:
# how the customer was won and the reward rule. Each is encoded once per set.
_SHARED_EXPLANATION_PARTS = ("attribution", "reward_rule")
_encode_json = DjangoJSONEncoder(separators=(",", ":")).encode
# The ProcessResult counter of each outcome.
_COUNTERS: dict[str, str] = {Status.ATTRIBUTED: "attributed", Status.UNATTRIBUTED: "unattributed", Status.DUPLICATE: "duplicate",
                             Status.RECEIVED: "waiting", Status.FAILED: "failed"}
# Commissions a refund may still take money back from.
_REVERSIBLE = (Commission.Status.PENDING, Commission.Status.APPROVED, Commission.Status.PAID)


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


# --- Entry points ------------------------------------------------------------------------


def process_events(*, workspace_id: int, event_ids: Sequence[int] | None = None, limit: int = CHUNK,
                   wait: bool = False) -> ProcessResult:
    """Process received events of one workspace: these ids, or the oldest pending ones.

    Events another worker holds are skipped (it is processing them), unless `wait`: then this
    call waits for them, which is what a woken refund needs (its sale's set just committed).
    If the set fails for a reason other than the database itself, each event is retried alone
    so that one bad event cannot hold up the others; an event that keeps failing is marked
    `failed` with the error after MAX_ATTEMPTS.
    """
    if event_ids is None:
        event_ids = list(InboundEvent.objects.filter(workspace_id=workspace_id, status=Status.RECEIVED)
                         .order_by("received_at", "id").values_list("id", flat=True)[:limit])
    ids = sorted(set(event_ids))
    if not ids:
        return ProcessResult()
    try:
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
        ids = list(InboundEvent.objects.for_workspace(workspace).filter(status=Status.RECEIVED)
                   .filter(Q(attempted_at__isnull=True) | Q(attempted_at__lt=started))
                   .order_by("received_at", "id").values_list("id", flat=True)[:chunk])
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
_SELECT_SET = """
SELECT id, event_id, kind, attempts, received_at, related_event_id, processor_ref,
       payload->>'occurred_at', payload->>'customer_external_id', payload->>'customer_email', payload->>'amount',
       payload->>'currency', payload->>'click_id', payload->>'code', (payload->>'partner_id')::bigint
FROM (SELECT * FROM attribution_inboundevent WHERE id = ANY(%b::bigint[]) OFFSET 0) AS event
WHERE workspace_id = %b AND status = 'received'
ORDER BY id FOR UPDATE"""


def _process_set(workspace_id: int, ids: list[int], *, wait: bool) -> ProcessResult:
    outermost = not connection.in_atomic_block
    with gc_paused(), transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute(_SET_TRANSACTION)
        rows = fetch_rows(_SELECT_SET + ("" if wait else " SKIP LOCKED"), [ids, workspace_id])
        if not rows:
            return ProcessResult()
        batch = _Batch(Workspace.objects.get(pk=workspace_id), [_Event.of(row) for row in rows])
        batch.run()
        if batch.result.woken:
            enqueue_on_commit(workspace_id, list(batch.result.woken), wait=True)
        if batch.waiting_for_click:
            click_wait.retry_after_flush_on_commit(workspace_id, [e.pk for e in batch.waiting_for_click],
                                                   attempts=max(e.attempts for e in batch.waiting_for_click))
        if batch.result.retry_soon:
            # In case the event they wait for settles before this commit, and so cannot wake them.
            countdown = min(2 ** min(batch.events[0].attempts, 5), 30)
            enqueue_on_commit(workspace_id, list(batch.result.retry_soon), countdown=countdown)
        return batch.result


def _record_failure(workspace_id: int, event_id: int, exc: Exception) -> ProcessResult:
    now = timezone.now()
    message = f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        event = (InboundEvent.objects.filter(workspace_id=workspace_id, pk=event_id, status=Status.RECEIVED)
                 .select_for_update(skip_locked=True).first())
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


# --- The set ---------------------------------------------------------------------------------


@dataclass
class _Event:
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
    def of(cls, row: Sequence[Any]) -> _Event:
        """From a row of _SELECT_SET."""
        (pk, event_id, kind, attempts, received_at, sale_ref, processor_ref,
         occurred_at, customer, email, amount, currency, click_id, code, partner_id) = row
        return cls(
            pk=pk, event_id=event_id, kind=kind, attempts=attempts, received_at=received_at,
            occurred_at=datetime.fromisoformat(occurred_at), customer=customer or "", email=email or "",
            amount=Decimal(amount) if amount is not None else None, currency=currency or "",
            click_id=click_id, code=code, partner_id=partner_id, processor_ref=processor_ref or None, sale_ref=sale_ref,
        )

    @property
    def order(self) -> tuple[datetime, int]:
        return self.occurred_at, self.pk


@dataclass
class _Ref:
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
    def of(cls, row: dict[str, Any]) -> _Ref:
        return cls(
            pk=row["id"], program_id=row["program_id"], partner_id=row["partner_id"],
            customer=row["customer_external_id"], source=row["source"], customer_email=row["customer_email"],
            click_pk=row["click_id"], click_ip_hash=row["click__ip_hash"] or "", code_pk=row["code_id"],
            deal_registration_id=row["deal_registration_id"], protected_until=row["protected_until"],
            converted_at=row["converted_at"], click_tclid=row["click__click_id"] or "",
            clicked_at=row["click__clicked_at"], code_text=row["code__code"] or "", referred_at=row["created_at"],
        )

    def fact(self) -> ReferralFact:
        return ReferralFact(
            pk=self.pk or 0, partner_id=self.partner_id, program_id=self.program_id, source=self.source,
            customer_email=self.customer_email, click_ip_hash=self.click_ip_hash, click_pk=self.click_pk,
            code_pk=self.code_pk, deal_registration_id=self.deal_registration_id, protected_until=self.protected_until,
            click_id=self.click_tclid, clicked_at=self.clicked_at, code=self.code_text, referred_at=self.referred_at,
        )

    @property
    def saved_pk(self) -> int:
        """The id of a referral in the database, as every sale line's is (_record_sales skips the others)."""
        assert self.pk is not None, f"referral of {self.customer} is not saved"
        return self.pk


_REFERRAL_VALUES = ("id", "program_id", "partner_id", "customer_external_id", "source", "customer_email", "click_id",
                    "click__ip_hash", "click__click_id", "click__clicked_at", "code_id", "code__code",
                    "deal_registration_id", "protected_until", "converted_at", "created_at")
# The customers' referrals, columns as _REFERRAL_VALUES, in SQL: read through the ORM, their times
# would be loaded by Django's pure-Python loader (see core.sql).
_SELECT_REFERRALS = f"""
SELECT r.id, r.program_id, r.partner_id, r.customer_external_id, r.source, r.customer_email, r.click_id, c.ip_hash,
       c.click_id, c.clicked_at, r.code_id, k.code, r.deal_registration_id, r.protected_until, r.converted_at,
       r.created_at
FROM {Referral._meta.db_table} r
LEFT JOIN {Click._meta.db_table} c ON c.id = r.click_id
LEFT JOIN {ReferralCode._meta.db_table} k ON k.id = r.code_id
WHERE r.workspace_id = %s AND r.customer_external_id = ANY(%s::text[])
ORDER BY r.created_at DESC, r.id DESC"""
_CLICK_VALUES = ("id", "click_id", "partner_id", "link__program_id", "clicked_at", "ip_hash", "visitor_hash",
                 "is_bot", "earns_credit")


def _click_fact(row: dict[str, Any]) -> ClickFact:
    return ClickFact(pk=row["id"], click_id=row["click_id"], partner_id=row["partner_id"],
                     program_id=row["link__program_id"], clicked_at=row["clicked_at"], ip_hash=row["ip_hash"],
                     visitor_hash=row["visitor_hash"], is_bot=row["is_bot"], earns_credit=row["earns_credit"])


@dataclass
class _Program:
    pk: int
    name: str
    currency: str
    hold_days: int
    fact: ProgramFact


@dataclass
class _SaleLine:
    event: _Event
    ref: _Ref
    decision: Decision
    program: _Program
    amount: Decimal
    original_amount: Decimal | None
    fx_rate: Decimal | None
    conversion_id: int | None = None
    rule: RuleFact | None = None


class _Batch:
    def __init__(self, workspace: Workspace, events: list[_Event]) -> None:
        self.workspace = workspace
        self.ws = workspace.pk
        self.now = timezone.now()
        self.events = events
        self.outcomes: dict[int, tuple[str, str, str]] = {}
        self.ledger: list[NewEntry] = []
        self.commission_rows: list[dict[str, Any]] = []
        self.commission_memos: list[str] = []
        self.refs: dict[str, _Ref] = {}
        self.decisions: dict[int, Decision] = {}
        self.existing_decisions: dict[tuple[str, str], Decision] = {}
        self.rule_explanations: dict[tuple[int, int], dict[str, Any]] = {}
        self.encoded_parts: dict[int, tuple[Any, str]] = {}
        self.partners: dict[int, PartnerFact] = {}
        self.rules: list[RuleFact] = []
        self.terms: dict[int, RuleTerms] = {}
        self.settled_sale_keys: set[str] = set()
        self.settled_customers: set[str] = set()
        self.waiting_for_customer: list[int] = []
        self.waiting_for_click: list[_Event] = []
        self.result = ProcessResult(events=len(events))

    # -- orchestration --

    def run(self) -> None:
        by_kind: dict[str, list[_Event]] = defaultdict(list)
        for event in self.events:
            by_kind[event.kind].append(event)
        leads, sales, refunds = (sorted(by_kind[k], key=lambda e: e.order) for k in ("lead", "sale", "refund"))
        self._load_programs()
        if leads or sales:
            self._load_referrals({e.customer for e in leads + sales})
            leads, sales = self._hold_back_for_earlier_events(leads, sales)
            self._attribute_customers(leads, sales)
            if self.waiting_for_click:  # they and their customers' later events stay received
                leads, sales = [e for e in leads if e.pk not in self.outcomes], [e for e in sales if e.pk not in self.outcomes]
            self._record_leads(leads)
        if sales:
            self._record_sales(sales)
        # Before refunds: a refund in this set may take back a commission this set just earned.
        self._insert_commissions()
        if refunds:
            self._record_refunds(refunds)
        self._finish()

    def _outcome(self, event: _Event, status: str, reason: str = "", code: str = "") -> None:
        self.outcomes[event.pk] = (status, reason, code)
        if event.kind in ("lead", "sale") and status != Status.RECEIVED and event.customer:
            self.settled_customers.add(event.customer)
        if event.kind == "sale" and status != Status.RECEIVED:
            self.settled_sale_keys.add(event.event_id)
            if event.processor_ref:
                self.settled_sale_keys.add(event.processor_ref)

    # -- loading facts --

    def _load_programs(self) -> None:
        self.programs: dict[int, _Program] = {}
        for row in Program.objects.filter(workspace_id=self.ws).values(
                "id", "name", "currency", "hold_days", "attribution_window_days", "attribution_model"):
            self.programs[row["id"]] = _Program(
                pk=row["id"], name=row["name"], currency=row["currency"], hold_days=row["hold_days"],
                fact=ProgramFact(pk=row["id"], window_days=row["attribution_window_days"], model=row["attribution_model"]))
        self.program_facts = {pk: p.fact for pk, p in self.programs.items()}

    def _load_referrals(self, customers: Iterable[str]) -> None:
        wanted = [c for c in customers if c]
        if not wanted:
            return
        # The oldest referral of a customer wins when several programs know them.
        for row in fetch_rows(_SELECT_REFERRALS, [self.ws, wanted]):
            self.refs[row[3]] = _Ref.of(dict(zip(_REFERRAL_VALUES, row)))

    def _load_partners(self, ids: Iterable[int]) -> None:
        wanted = {pk for pk in ids if pk is not None and pk not in self.partners}
        if not wanted:
            return
        labels = dict(Partner.Status.choices)
        for row in Partner.objects.filter(workspace_id=self.ws, pk__in=wanted).values(
                "id", "program_id", "name", "email", "status", "group_id"):
            self.partners[row["id"]] = PartnerFact(
                pk=row["id"], program_id=row["program_id"], name=row["name"], email=row["email"],
                status=str(labels.get(row["status"], row["status"])).lower(),
                earns=row["status"] == Partner.Status.ACTIVE, group_id=row["group_id"],
            )

    def _load_rules(self, program_ids: Iterable[int]) -> None:
        ids = set(program_ids) - {r.program_id for r in self.rules}
        if not ids:
            return
        ensure_default_reward_rules(workspace_id=self.ws, program_ids=ids)
        for row in RewardRule.objects.filter(workspace_id=self.ws, program_id__in=ids).values(
                "id", "program_id", "group_id", "rule_key", "version", "effective_from", "name", "sale_type",
                "sale_value", "duration", "duration_months", "lead_amount", "cap_per_customer", "min_sale_amount"):
            self.rules.append(RuleFact(pk=row["id"], program_id=row["program_id"], group_id=row["group_id"],
                                       rule_key=str(row["rule_key"]), version=row["version"],
                                       effective_from=row["effective_from"]))
            self.terms[row["id"]] = terms_of(row)

    def _rule_for(self, program_id: int, partner_id: int, at: datetime) -> RuleFact | None:
        partner = self.partners.get(partner_id)
        return engine.select_rule(self.rules, program_id=program_id, group_id=partner.group_id if partner else None, at=at)

    # -- attribution of new customers --

    def _hold_back_for_earlier_events(self, leads: list[_Event], sales: list[_Event]) -> tuple[list[_Event], list[_Event]]:
        """Leave for later the leads and sales of a new customer while an earlier event of theirs is unprocessed.

        Another worker may be creating that customer's referral right now (uncommitted, so invisible
        here): going ahead would leave this sale unattributed, or let a later lead win the customer.
        Those events stay `received`; they are woken when the earlier event is settled, and retried
        shortly anyway.
        """
        new = {e.customer for e in leads + sales if e.customer and e.customer not in self.refs}
        if not new:
            return leads, sales
        mine = [e.pk for e in self.events]
        first_pending = dict(
            InboundEvent.objects.filter(workspace_id=self.ws, status=Status.RECEIVED, customer_external_id__in=new,
                                        kind__in=[InboundEvent.Kind.LEAD, InboundEvent.Kind.SALE], pk__lt=max(mine))
            .exclude(pk__in=mine).values("customer_external_id").annotate(first=Min("id"))
            .values_list("customer_external_id", "first")
        )
        # Another set may have settled some of these customers after their referrals were read above; its
        # events were still pending then, and are not now. Read their referrals again: what that set
        # made is visible now, and a set still holding an earlier event of theirs is in first_pending.
        self._load_referrals(new)
        if not first_pending:
            return leads, sales

        def go_ahead(event: _Event) -> bool:
            earlier = first_pending.get(event.customer)
            if earlier is None or earlier > event.pk:
                return True
            self._outcome(event, Status.RECEIVED, f"Waiting for an earlier event of customer {event.customer}.",
                          "waiting_for_customer")
            self.waiting_for_customer.append(event.pk)
            return False

        return [e for e in leads if go_ahead(e)], [e for e in sales if go_ahead(e)]

    def _attribute_customers(self, leads: list[_Event], sales: list[_Event]) -> None:
        """Decide every lead, and every sale of a customer who is not a referral yet; create the referrals won."""
        deciding = leads + [s for s in sales if s.customer not in self.refs]
        clicks: dict[str, ClickFact] = {}
        same_visitor: dict[str, list[ClickFact]] = defaultdict(list)
        codes: dict[str, CodeFact] = {}
        deals_by_email: dict[str, _Ref] = {}
        deals_by_domain: dict[str, _Ref] = {}
        click_ids = {e.click_id for e in deciding if e.click_id}
        in_flight: set[str] = set()
        if click_ids:
            for row in Click.objects.filter(workspace_id=self.ws, click_id__in=click_ids).values(*_CLICK_VALUES):
                clicks[row["click_id"]] = _click_fact(row)
            if missing := click_ids - clicks.keys():
                in_flight = click_wait.clicks_in_flight(missing)
                # A click the flusher stored after the read above is behind its mark now: read again.
                for row in Click.objects.filter(workspace_id=self.ws, click_id__in=missing - in_flight).values(*_CLICK_VALUES):
                    clicks[row["click_id"]] = _click_fact(row)
            visitors = {c.visitor_hash for c in clicks.values() if c.visitor_hash}
            if visitors:
                longest = max((p.fact.window_days for p in self.programs.values()), default=90)
                since = min(e.occurred_at for e in deciding) - timedelta(days=longest)
                for row in (Click.objects.filter(workspace_id=self.ws, visitor_hash__in=visitors, clicked_at__gte=since)
                            .exclude(click_id__in=click_ids).values(*_CLICK_VALUES)[:10000]):
                    same_visitor[row["visitor_hash"]].append(_click_fact(row))
        code_texts = {e.code.strip().lower() for e in deciding if e.code}
        if code_texts:
            for row in (ReferralCode.objects.filter(workspace_id=self.ws).annotate(lowered=Lower("code"))
                        .filter(lowered__in=code_texts).values("id", "code", "lowered", "partner_id", "program_id", "archived_at")):
                codes[row["lowered"]] = CodeFact(pk=row["id"], code=row["code"], partner_id=row["partner_id"],
                                                 program_id=row["program_id"], active=row["archived_at"] is None)
        emails = {e.email for e in deciding if e.email}
        if emails:
            domains = {d for d in (email_domain(e) for e in emails) if d}
            match = Q(customer_email__in=emails) | (Q(customer_domain__in=domains) if domains else Q(pk__in=[]))
            for row in (Referral.objects.filter(workspace_id=self.ws, source=Referral.Source.DEAL_REGISTRATION,
                                                customer_external_id="",
                                                deal_registration__status=DealRegistration.Status.APPROVED)
                        .exclude(stage=Referral.Stage.EXPIRED).filter(match).order_by("-created_at").values(*_REFERRAL_VALUES)):
                ref = _Ref.of(row)
                if ref.customer_email:
                    deals_by_email[ref.customer_email] = ref
                domain = email_domain(ref.customer_email) if ref.customer_email else ""
                if domain:
                    deals_by_domain.setdefault(domain, ref)
        self._load_partners(
            [c.partner_id for c in clicks.values()] + [c.partner_id for cs in same_visitor.values() for c in cs]
            + [c.partner_id for c in codes.values()] + [e.partner_id for e in deciding if e.partner_id]
            + [r.partner_id for r in (*deals_by_email.values(), *deals_by_domain.values(), *self.refs.values())]
        )

        won: list[_Ref] = []
        waiting_customers: set[str] = set()
        for event in deciding:
            if event.customer in waiting_customers:
                self._outcome(event, Status.RECEIVED, f"Waiting for an earlier event of customer {event.customer}.",
                              "waiting_for_customer")
                self.waiting_for_customer.append(event.pk)
                continue
            existing = self.refs.get(event.customer)
            deal = None
            if existing is None and event.email:
                deal = deals_by_email.get(event.email) or deals_by_domain.get(email_domain(event.email))
                if deal is not None and any(r is deal for r in won):
                    deal = None  # already claimed by another customer of this set
            click = clicks.get(event.click_id) if event.click_id else None
            facts = CustomerFacts(
                occurred_at=event.occurred_at, customer_email=event.email,
                existing=existing.fact() if existing else None, deal=deal.fact() if deal else None,
                partner_id=event.partner_id, code_text=event.code,
                code=codes.get(event.code.strip().lower()) if event.code else None,
                click_id=event.click_id, click=click,
                other_clicks=tuple(same_visitor.get(click.visitor_hash, ())) if click and click.visitor_hash else (),
                click_in_flight=event.click_id in in_flight and click_wait.may_still_wait(event.received_at, self.now),
            )
            decision = engine.decide(facts, partners=self.partners, programs=self.program_facts)
            if decision.reason_code == click_wait.REASON_CODE:
                self._outcome(event, Status.RECEIVED, decision.reason, decision.reason_code)
                self.waiting_for_click.append(event)
                waiting_customers.add(event.customer)
                continue
            self.decisions[event.pk] = decision
            if decision.partner_id is None or decision.source == "existing":  # not attributed, or already a referral
                continue
            won_click = clicks.get(event.click_id) if decision.source == "link" and event.click_id else None
            if won_click is not None and won_click.pk != decision.click_pk:  # the visitor's other click won
                won_click = next((c for c in same_visitor.get(won_click.visitor_hash, ()) if c.pk == decision.click_pk), None)
            won_code = codes.get(event.code.strip().lower()) if decision.source == "code" and event.code else None
            ref = _Ref(pk=deal.pk if decision.source == "deal_registration" and deal else None,
                       program_id=decision.program_id or self.partners[decision.partner_id].program_id,
                       partner_id=decision.partner_id, customer=event.customer, source=_SOURCE[decision.source],
                       customer_email=event.email, click_pk=decision.click_pk,
                       click_ip_hash=won_click.ip_hash if won_click else "", code_pk=decision.code_pk,
                       click_tclid=won_click.click_id if won_click else "",
                       clicked_at=won_click.clicked_at if won_click else None,
                       code_text=won_code.code if won_code else "",
                       referred_at=min(event.occurred_at, self.now),
                       deal_registration_id=deal.deal_registration_id if deal and decision.source == "deal_registration" else None,
                       protected_until=deal.protected_until if deal and decision.source == "deal_registration" else None,
                       created_here=True, decision=decision)
            self.refs[event.customer] = ref
            won.append(ref)
        if won:
            self._save_referrals(won)

    def _save_referrals(self, won: list[_Ref]) -> None:
        lost: list[str] = []
        plain = []
        for ref in won:
            if ref.source == Referral.Source.DEAL_REGISTRATION:
                if not bind_deal_referral(workspace_id=self.ws, referral_id=ref.pk or 0,
                                          customer_external_id=ref.customer, customer_email=ref.customer_email):
                    lost.append(ref.customer)
            else:
                plain.append(ref)
        created = create_referrals(workspace_id=self.ws, rows=[
            NewReferral(program_id=r.program_id, partner_id=r.partner_id, customer_external_id=r.customer,
                        source=r.source, customer_email=r.customer_email, click_id=r.click_pk, code_id=r.code_pk,
                        created_at=r.referred_at)
            for r in plain
        ])
        for ref in plain:
            pk = created.get((ref.program_id, ref.customer))
            if pk is None:
                lost.append(ref.customer)
            else:
                ref.pk = pk
        if lost:
            # Another worker made these customers referrals first: theirs stands.
            for customer in lost:
                self.refs.pop(customer, None)
            self._load_referrals(lost)
            self._load_partners(r.partner_id for r in self.refs.values())

    # -- leads --

    def _record_leads(self, leads: list[_Event]) -> None:
        if not leads:
            return
        self._load_rules({r.program_id for r in self.refs.values() if r.created_here and r.pk})
        for event in leads:
            decision = self.decisions[event.pk]
            ref = self.refs.get(event.customer)
            if not decision.attributed:
                self._outcome(event, Status.UNATTRIBUTED, decision.reason, decision.reason_code)
                continue
            if ref is None or ref.decision is not decision or not ref.created_here or ref.pk is None:
                who = self.partners[ref.partner_id].name if ref and ref.partner_id in self.partners else "another partner"
                self._outcome(event, Status.ATTRIBUTED, f"Already a referral of {who}; nothing new to credit.",
                              "existing_referral")
                continue
            self._outcome(event, Status.ATTRIBUTED)
            self._lead_reward(event, ref, decision)

    def _lead_reward(self, event: _Event, ref: _Ref, decision: Decision) -> None:
        rule = self._rule_for(ref.program_id, ref.partner_id, event.occurred_at)
        if rule is None:
            return
        terms = self.terms[rule.pk]
        if terms.lead_amount <= 0:
            return
        program = self.programs[ref.program_id]
        amount = round_money(terms.lead_amount, program.currency)
        explanation = {
            "attribution": decision.explanation,
            "reward_rule": self._rule_explanation(rule, program),
            "calculation": f"{terms.name}: {amount} {program.currency} per new referral",
            "lead": {"event_id": event.event_id, "occurred_at": event.occurred_at.isoformat()},
        }
        self._add_commission(kind=Commission.Kind.LEAD, ref=ref, conversion_id=None, rule=rule, program=program,
                             amount=amount, occurred_at=event.occurred_at, decision=decision, explanation=explanation,
                             memo=f"Lead {event.event_id}")

    # -- sales --

    def _record_sales(self, sales: list[_Event]) -> None:
        lines: list[_SaleLine] = []
        missing_rates: dict[tuple[Any, str, str], list[_Event]] = defaultdict(list)
        needed_rates = {(e.occurred_at.date(), e.currency, self.programs[self.refs[e.customer].program_id].currency)
                        for e in sales if e.customer in self.refs and self.refs[e.customer].pk
                        and self.refs[e.customer].program_id in self.programs
                        and e.currency != self.programs[self.refs[e.customer].program_id].currency}
        rates = self._load_rates(needed_rates)
        for event in sales:
            ref = self.refs.get(event.customer)
            decision = self.decisions.get(event.pk)
            if ref is None or ref.pk is None:
                if decision is None or decision.reason_code == "no_partner":
                    decision = Decision(partner_id=None, reason_code="no_partner",
                                        reason=f"Customer {event.customer} is not any partner's referral, and the sale "
                                               f"names no click or referral code.")
                self._outcome(event, Status.UNATTRIBUTED, decision.reason, decision.reason_code)
                continue
            if decision is None or ref.decision is not decision or not decision.attributed:
                # A referral's later sales are all decided alike (stickiness): once per customer and email.
                key = (event.customer, event.email)
                decision = self.existing_decisions.get(key)
                if decision is None:
                    decision = self.existing_decisions[key] = engine.decide(
                        CustomerFacts(occurred_at=event.occurred_at, customer_email=event.email, existing=ref.fact()),
                        partners=self.partners, programs=self.program_facts)
            if not decision.attributed:
                self._outcome(event, Status.UNATTRIBUTED, decision.reason, decision.reason_code)
                continue
            program = self.programs[ref.program_id]
            assert event.amount is not None
            amount, original, rate = event.amount, None, None
            if event.currency != program.currency:
                rate = rates.get((event.occurred_at.date(), event.currency, program.currency))
                if rate is None:
                    missing_rates[(event.occurred_at.date(), event.currency, program.currency)].append(event)
                    continue
                original = event.amount
                amount = round_money(event.amount * rate, program.currency)
            lines.append(_SaleLine(event=event, ref=ref, decision=decision, program=program, amount=amount,
                                   original_amount=original, fx_rate=rate))
        for (day, source, target), events in missing_rates.items():
            for event in events:
                self._outcome(event, Status.UNATTRIBUTED,
                              f"No exchange rate {source}→{target} for {day:%Y-%m-%d}. Add one under Exchange rates "
                              f"and the sale is processed again.", "no_exchange_rate")
        if not lines:
            return
        self._insert_sale_conversions(lines)
        lines = [line for line in lines if line.conversion_id is not None]
        if not lines:
            return
        self._load_rules({line.ref.program_id for line in lines})
        for line in lines:
            line.rule = self._rule_for(line.ref.program_id, line.ref.partner_id, line.event.occurred_at)
        first_sale = self._mark_first_sales(lines)
        earned = self._earned_so_far(lines)
        for line in lines:
            self._sale_commission(line, first_sale, earned)

    def _load_rates(self, keys: set[tuple[Any, str, str]]) -> dict[tuple[Any, str, str], Decimal]:
        if not keys:
            return {}
        rows = ExchangeRate.objects.filter(
            workspace_id=self.ws, date__in={k[0] for k in keys}, from_currency__in={k[1] for k in keys},
            to_currency__in={k[2] for k in keys},
        ).values_list("date", "from_currency", "to_currency", "rate")
        return {(d, f, t): rate for d, f, t, rate in rows}

    def _insert_sale_conversions(self, lines: list[_SaleLine]) -> None:
        rows = [{
            "workspace_id": self.ws, "program_id": line.ref.program_id, "referral_id": line.ref.pk,
            "partner_id": line.ref.partner_id, "kind": Conversion.Kind.SALE, "event_id": line.event.event_id,
            "processor_ref": line.event.processor_ref, "amount": line.amount, "currency": line.program.currency,
            "original_amount": line.original_amount,
            "original_currency": line.event.currency if line.original_amount is not None else "",
            "fx_rate": line.fx_rate, "occurred_at": line.event.occurred_at, "sale_id": None, "created_at": self.now,
        } for line in lines]
        # A conflict can only be the processor's id: the same sale already came by another route. Without
        # processor ids there can be none (each event id is one locked inbox row), and a plain INSERT
        # skips PostgreSQL's speculative insertion, a second pass over the unique indexes for every row.
        may_conflict = any(line.event.processor_ref for line in lines)
        inserted = {event_id: pk for pk, event_id in insert_rows(Conversion, rows, ignore_conflicts=may_conflict,
                                                                 returning=("id", "event_id"))}
        duplicates = [line for line in lines if line.event.event_id not in inserted]
        originals = {}
        if duplicates:
            originals = dict(Conversion.objects.filter(
                workspace_id=self.ws, processor_ref__in={line.event.processor_ref for line in duplicates}
            ).values_list("processor_ref", "event_id"))
        for line in lines:
            line.conversion_id = inserted.get(line.event.event_id)
            if line.conversion_id is None:
                ref = line.event.processor_ref
                self._outcome(line.event, Status.DUPLICATE,
                              f"Same sale as event {originals.get(ref, 'in this batch')} ({ref}); counted once.",
                              "duplicate_sale")

    def _mark_first_sales(self, lines: list[_SaleLine]) -> dict[int, int]:
        """Referral id → the conversion that is the customer's first sale, for the referrals it is."""
        firsts: dict[int, _SaleLine] = {}
        for line in lines:  # already in occurred_at order
            if line.ref.converted_at is None and line.ref.saved_pk not in firsts:
                firsts[line.ref.saved_pk] = line
        capped = {line.ref.saved_pk for line in lines if line.rule is not None
                  and (self.terms[line.rule.pk].cap_per_customer is not None or self.terms[line.rule.pk].duration == "one_time")}
        lock = sorted(set(firsts) | capped)
        if lock:
            # One ordered lock per customer whose first sale or cap is at stake: concurrent sets of the same
            # customers wait for each other here, in id order, so they never deadlock.
            current = dict(Referral.objects.filter(workspace_id=self.ws, pk__in=lock).select_for_update()
                           .order_by("id").values_list("id", "converted_at"))
            for pk, converted_at in current.items():
                if converted_at is not None:
                    firsts.pop(pk, None)
                    for line in lines:
                        if line.ref.pk == pk:
                            line.ref.converted_at = converted_at
        done = mark_referrals_converted(workspace_id=self.ws,
                                        first_sales={pk: line.event.occurred_at for pk, line in firsts.items()})
        result: dict[int, int] = {}
        for pk, line in firsts.items():
            if pk in done:
                assert line.conversion_id is not None  # _record_sales keeps only the lines it inserted
                line.ref.converted_at = line.event.occurred_at
                result[pk] = line.conversion_id
        return result

    def _earned_so_far(self, lines: list[_SaleLine]) -> dict[tuple[int, str], Decimal]:
        capped = {line.ref.saved_pk for line in lines
                  if line.rule is not None and self.terms[line.rule.pk].cap_per_customer is not None}
        earned: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        if capped:
            rows = (Commission.objects.filter(workspace_id=self.ws, referral_id__in=capped, kind=Commission.Kind.SALE)
                    .exclude(status=Commission.Status.REJECTED)
                    .values("referral_id", "reward_rule__rule_key").annotate(total=Sum("amount"), back=Sum("reversed_amount")))
            for row in rows:
                earned[(row["referral_id"], str(row["reward_rule__rule_key"]))] = row["total"] - row["back"]
        return earned

    def _sale_commission(self, line: _SaleLine, first_sale: dict[int, int], earned: dict[tuple[int, str], Decimal]) -> None:
        event, ref, program, rule = line.event, line.ref, line.program, line.rule
        if rule is None:
            self._outcome(event, Status.ATTRIBUTED, f"No reward rule of {program.name} was in effect on "
                                                    f"{event.occurred_at:%Y-%m-%d}, so the sale earns nothing.", "no_reward_rule")
            return
        terms = self.terms[rule.pk]
        key = (ref.pk or 0, rule.rule_key)
        result = sale_reward(
            terms, sale_amount=line.amount, currency=program.currency, occurred_at=event.occurred_at,
            customer_first_sale_at=ref.converted_at or event.occurred_at,
            is_first_sale=first_sale.get(ref.pk or 0) == line.conversion_id, earned_for_customer=earned[key],
        )
        if not isinstance(result, Award):
            self._outcome(event, Status.ATTRIBUTED, result.reason, "no_commission")
            return
        earned[key] += result.amount
        self._outcome(event, Status.ATTRIBUTED)
        sale = {"event_id": event.event_id, "amount": str(line.amount), "currency": program.currency,
                "occurred_at": event.occurred_at.isoformat()}
        if line.original_amount is not None:
            sale.update(original_amount=str(line.original_amount), original_currency=event.currency,
                        fx_rate=str(line.fx_rate))
        explanation = {
            "attribution": line.decision.explanation,
            "reward_rule": self._rule_explanation(rule, program),
            # The amounts only: the rule's own description is under reward_rule.
            "calculation": result.explanation.rpartition(" — ")[2],
            "sale": sale,
        }
        self._add_commission(kind=Commission.Kind.SALE, ref=ref, conversion_id=line.conversion_id, rule=rule,
                             program=program, amount=result.amount, occurred_at=event.occurred_at,
                             decision=line.decision, explanation=explanation, memo=f"Sale {event.event_id}")

    def _rule_explanation(self, rule: RuleFact, program: _Program) -> dict[str, Any]:
        # Shared by every commission of the set under this rule: only ever serialised, never changed.
        key = (rule.pk, program.pk)
        if key not in self.rule_explanations:
            self.rule_explanations[key] = {
                "id": rule.pk, "name": self.terms[rule.pk].name, "version": rule.version,
                "effective_from": rule.effective_from.isoformat(), "terms": self.terms[rule.pk].describe(program.currency)}
        return self.rule_explanations[key]

    def _add_commission(self, *, kind: str, ref: _Ref, conversion_id: int | None, rule: RuleFact, program: _Program,
                        amount: Decimal, occurred_at: datetime, decision: Decision, explanation: dict[str, Any],
                        memo: str) -> None:
        hold_until = occurred_at + timedelta(days=program.hold_days)
        explanation["hold_until"] = hold_until.isoformat()
        rejected = decision.self_referral is not None
        self.commission_rows.append({
            "workspace_id": self.ws, "program_id": ref.program_id, "partner_id": ref.partner_id, "referral_id": ref.pk,
            "conversion_id": conversion_id, "reward_rule_id": rule.pk, "kind": kind, "amount": amount,
            "currency": program.currency,
            "status": Commission.Status.REJECTED if rejected else Commission.Status.PENDING,
            "occurred_at": occurred_at, "hold_until": hold_until, "reversed_amount": ZERO,
            "rejection_reason": decision.self_referral or "", "explanation": self._encode_explanation(explanation),
            "created_at": self.now,
            "rejected_at": self.now if rejected else None,
        })
        self.commission_memos.append(memo)

    def _encode_explanation(self, explanation: dict[str, Any]) -> EncodedJson:
        """The explanation as JSON, each shared part encoded once per set (encoding was a tenth of the
        worker's time when every commission encoded its own copy)."""
        shared, own = [], {}
        for key, value in explanation.items():
            if key not in _SHARED_EXPLANATION_PARTS:
                own[key] = value
                continue
            known = self.encoded_parts.get(id(value))
            if known is None or known[0] is not value:
                # The part itself is kept with its text, so its id cannot be reused by another object.
                known = self.encoded_parts[id(value)] = (value, _encode_json(value))
            shared.append(f'"{key}":{known[1]}')
        if own:
            shared.append(_encode_json(own)[1:-1])  # the rest in one call, without its braces
        return EncodedJson("{" + ",".join(shared) + "}")

    # -- refunds --

    def _record_refunds(self, refunds: list[_Event]) -> None:
        keys = {e.sale_ref for e in refunds}
        sales: dict[str, Conversion] = {}
        for known in (Conversion.objects.filter(workspace_id=self.ws, kind=Conversion.Kind.SALE)
                      .filter(Q(event_id__in=keys) | Q(processor_ref__in=keys)).order_by("id").select_for_update()):
            sales[known.event_id] = known
            if known.processor_ref:
                sales[known.processor_ref] = known
        unknown = keys - set(sales)
        sale_events: dict[str, dict[str, Any]] = {}
        if unknown:
            for row in (InboundEvent.objects.filter(workspace_id=self.ws, kind=InboundEvent.Kind.SALE)
                        .filter(Q(event_id__in=unknown) | Q(processor_ref__in=unknown))
                        .values("id", "event_id", "processor_ref", "status", "reason")):
                status, reason, _ = self.outcomes.get(row["id"], (row["status"], row["reason"], ""))
                info = {**row, "status": status, "reason": reason}
                sale_events[row["event_id"]] = info
                if row["processor_ref"]:
                    sale_events.setdefault(row["processor_ref"], info)
            # A refund naming the second route of a sale counted once refunds the sale that was counted.
            via = {info["processor_ref"] for key, info in sale_events.items()
                   if key in unknown and info["status"] == Status.DUPLICATE and info["processor_ref"]}
            if via:
                for counted in (Conversion.objects.filter(workspace_id=self.ws, kind=Conversion.Kind.SALE,
                                                          processor_ref__in=via).order_by("id").select_for_update()):
                    for key, info in sale_events.items():
                        if info["processor_ref"] == counted.processor_ref:
                            sales[key] = counted
        sale_ids = {s.pk for s in sales.values()}
        refunded: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])  # sale → [original units, program units]
        commissions: dict[int, list[Commission]] = defaultdict(list)
        if sale_ids:
            for sums in (Conversion.objects.filter(workspace_id=self.ws, kind=Conversion.Kind.REFUND, sale_id__in=sale_ids)
                         .values("sale_id").annotate(orig=Sum(Coalesce("original_amount", "amount")), prog=Sum("amount"))):
                refunded[sums["sale_id"]] = [sums["orig"], sums["prog"]]
            for commission in (Commission.objects.filter(workspace_id=self.ws, kind=Commission.Kind.SALE,
                                                         conversion_id__in=sale_ids)
                               .order_by("id").select_for_update()):
                commissions[cast(int, commission.conversion_id)].append(commission)  # a sale's: never None
        taken_refs = set(Conversion.objects.filter(
            workspace_id=self.ws, processor_ref__in={e.processor_ref for e in refunds if e.processor_ref}
        ).values_list("processor_ref", flat=True)) if any(e.processor_ref for e in refunds) else set()

        planned: list[tuple[_Event, dict[str, Any], list[tuple[Commission, Decimal]]]] = []
        for event in refunds:
            sale = sales.get(event.sale_ref)
            if sale is None:
                self._refund_without_sale(event, sale_events.get(event.sale_ref))
                continue
            if event.processor_ref and event.processor_ref in taken_refs:
                self._outcome(event, Status.DUPLICATE, f"This refund ({event.processor_ref}) was already counted.",
                              "duplicate_refund")
                continue
            if event.processor_ref:
                taken_refs.add(event.processor_ref)
            plan = self._plan_refund(event, sale, refunded[sale.pk], commissions[sale.pk])
            if plan is not None:
                planned.append((event, plan[0], plan[1]))
        if not planned:
            return
        inserted = {event_id: pk for pk, event_id in insert_rows(Conversion, [row for _, row, _ in planned],
                                                                 returning=("id", "event_id"))}
        changed: dict[int, Commission] = {}
        reversal_rows = []
        for event, _, reversals in planned:
            refund_id = inserted[event.event_id]
            for commission, amount in reversals:
                changed[commission.pk] = commission
                reversal_rows.append({"workspace_id": self.ws, "commission_id": commission.pk, "refund_id": refund_id,
                                      "amount": amount, "currency": commission.currency, "created_at": self.now})
                self.ledger.append(NewEntry(partner_id=commission.partner_id, kind=LedgerEntry.Kind.COMMISSION_REVERSED,
                                            amount=-amount, currency=commission.currency,
                                            reference=f"commission:{commission.pk}", memo=f"Refund {event.event_id}"))
        insert_rows(CommissionReversal, reversal_rows)
        update_rows(Commission, [{"id": c.pk, "reversed_amount": c.reversed_amount, "status": c.status}
                                 for c in changed.values()],
                    fields=["reversed_amount", "status"], where="t.workspace_id = %s", where_params=[self.ws])

    def _refund_without_sale(self, event: _Event, sale_event: dict[str, Any] | None) -> None:
        ref = event.sale_ref
        if sale_event is not None and sale_event["status"] in (Status.UNATTRIBUTED, Status.FAILED):
            self._outcome(event, Status.UNATTRIBUTED,
                          f"Sale {ref} was not attributed to a partner ({sale_event['reason'] or sale_event['status']}), "
                          f"so there is no commission to reverse.", "sale_unattributed")
        elif sale_event is None and self.now - event.received_at > WAIT_FOR_SALE:
            self._outcome(event, Status.UNATTRIBUTED,
                          f"Sale {ref} never reached Tandem; if it arrives, this refund is applied then.", "sale_not_found")
        else:
            self._outcome(event, Status.RECEIVED, f"Waiting for sale {ref}.", "waiting_for_sale")

    def _plan_refund(self, event: _Event, sale: Conversion, refunded: list[Decimal],
                     commissions: list[Commission]) -> tuple[dict[str, Any], list[tuple[Commission, Decimal]]] | None:
        converted = sale.original_amount is not None
        sale_orig = sale.original_amount if sale.original_amount is not None else sale.amount
        orig_currency = sale.original_currency if converted else sale.currency
        currency = event.currency or orig_currency
        if currency not in (orig_currency, sale.currency):
            self._outcome(event, Status.UNATTRIBUTED, f"The refund is in {currency} but sale {sale.event_id} was in "
                                                      f"{orig_currency}.", "refund_currency_mismatch")
            return None
        left = sale_orig - refunded[0]
        if left <= 0:
            self._outcome(event, Status.ATTRIBUTED, f"Sale {sale.event_id} was already fully refunded.", "already_refunded")
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
            back = left_on_commission if full else refund_reversal(
                commission_amount=commission.amount, sale_amount=sale_orig, refund_amount=amount_orig,
                already_reversed=commission.reversed_amount, currency=commission.currency)
            if back <= 0:
                continue
            commission.reversed_amount += back
            if commission.reversed_amount >= commission.amount and commission.status != Commission.Status.PAID:
                # A paid commission stays paid: the negative ledger entry is carried into the next statement.
                commission.status = Commission.Status.REVERSED
            reversals.append((commission, back))
        self._outcome(event, Status.ATTRIBUTED)
        row = {
            "workspace_id": self.ws, "program_id": sale.program_id, "referral_id": sale.referral_id,
            "partner_id": sale.partner_id, "kind": Conversion.Kind.REFUND, "event_id": event.event_id,
            "processor_ref": event.processor_ref, "amount": amount_prog, "currency": sale.currency,
            "original_amount": amount_orig if converted else None, "original_currency": orig_currency if converted else "",
            "fx_rate": sale.fx_rate, "occurred_at": event.occurred_at, "sale_id": sale.pk, "created_at": self.now,
        }
        return row, reversals

    # -- finishing --

    def _insert_commissions(self) -> None:
        if self.commission_rows:
            returned = insert_rows(Commission, self.commission_rows, returning=("id", "kind", "conversion_id", "referral_id"))
            ids = {(kind, conversion_id if kind == Commission.Kind.SALE else referral_id): pk
                   for pk, kind, conversion_id, referral_id in returned}
            for row, memo in zip(self.commission_rows, self.commission_memos):
                if row["status"] != Commission.Status.PENDING:
                    continue  # born rejected (self-referral): nothing was ever owed
                key = (row["kind"], row["conversion_id"] if row["kind"] == Commission.Kind.SALE else row["referral_id"])
                self.ledger.append(NewEntry(partner_id=row["partner_id"], kind=LedgerEntry.Kind.COMMISSION_EARNED,
                                            amount=row["amount"], currency=row["currency"],
                                            reference=f"commission:{ids[key]}", memo=memo))
            self.result.commissions = len(returned)

    def _finish(self) -> None:
        marks = []
        for event in self.events:
            status, reason, code = self.outcomes.get(event.pk, (Status.FAILED, "The processor reached no outcome.", "error"))
            final = status != Status.RECEIVED
            marks.append({"id": event.pk, "status": status, "reason": reason, "reason_code": code,
                          "attempts": event.attempts + 1, "attempted_at": self.now,
                          "processed_at": self.now if final else None})
            counter = _COUNTERS[status]
            setattr(self.result, counter, getattr(self.result, counter) + 1)
        update_rows(InboundEvent, marks, fields=["status", "reason", "reason_code", "attempts", "attempted_at", "processed_at"],
                    where="t.workspace_id = %s", where_params=[self.ws])
        self._reopen_sales_of_new_referrals()
        self._wake_refunds()
        self._wake_customers()
        self.result.retry_soon = list(self.waiting_for_customer)
        # Last, so the workspace's ledger lock is held only until the commit that follows.
        post_entries(workspace=self.workspace, entries=self.ledger, return_entries=False)

    def _reopen_sales_of_new_referrals(self) -> None:
        """Sales that reached Tandem before the event that made their customer a referral (Stripe's
        first invoice before its checkout) are processed again, now that the customer is one."""
        new = [r for r in self.refs.values() if r.created_here and r.pk and r.referred_at]
        if new:
            self.result.woken.extend(reopen.reopen_sales_before_referral(
                workspace_id=self.ws, referrals=[(r.customer, r.referred_at, r.clicked_at) for r in new],  # type: ignore[misc]
                exclude=[e.pk for e in self.events]))

    def _wake_customers(self) -> None:
        if not self.settled_customers:
            return
        mine = {e.pk for e in self.events}
        # Only the reason, not the status: an event keeps this reason only while it waits, and a condition
        # on the status would let PostgreSQL pick an index of all pending events, which statistics that lag
        # behind a large import present as empty (it then reads every pending event). Waking an event that
        # is settled meanwhile does nothing.
        rows = fetch_rows(
            "SELECT id FROM attribution_inboundevent WHERE workspace_id = %s "
            "AND reason_code = 'waiting_for_customer' AND customer_external_id = ANY(%s::text[])",
            [self.ws, list(self.settled_customers)],
        )
        self.result.woken.extend(pk for (pk,) in rows if pk not in mine)

    def _wake_refunds(self) -> None:
        if not self.settled_sale_keys:
            return
        mine = {e.pk for e in self.events}
        rows = fetch_rows(
            "SELECT id FROM attribution_inboundevent WHERE workspace_id = %s AND kind = 'refund' "
            "AND related_event_id = ANY(%s::text[]) AND (status = 'received' "
            "OR (status = 'unattributed' AND reason_code IN ('sale_unattributed', 'sale_not_found')))",
            [self.ws, list(self.settled_sale_keys)],
        )
        ids = [pk for (pk,) in rows if pk not in mine]
        if ids:
            InboundEvent.objects.filter(workspace_id=self.ws, pk__in=ids, status=Status.UNATTRIBUTED).update(
                status=Status.RECEIVED, reason="The sale was processed again.", reason_code="", processed_at=None)
            self.result.woken.extend(ids)
