"""The inbox: the one door through which leads, sales and refunds enter Tandem.

The API, the Stripe and HubSpot webhooks and the CSV import all turn what they receive into
`IncomingEvent`s and hand them to `accept_events`. Accepting only records the event (unique per
workspace and `event_id`, so a retry is a no-op) and schedules processing after the caller's
transaction commits; attribution, commissions and ledger entries happen later, in sets, in
`attribution.processing`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import Workspace
from attribution.models import InboundEvent
from core.arrays import text_array
from core.iso import CURRENCIES
from core.money import excess_places
from core.sql import fetch_rows

logger = logging.getLogger(__name__)

KINDS = ("lead", "sale", "refund")
# What every route says about an event's shape: the API's schemas and its batch read these too.
UNKNOWN_KIND = "Use lead, sale or refund."
NOT_AN_OBJECT = "Each event is an object."
UNKNOWN_FIELD = "Tandem does not know this field."
MAX_ID_LENGTH = 200
# The amount columns are numeric(18, 4).
MAX_AMOUNT = Decimal("99999999999999")
AMOUNT_PLACES = 4


@dataclass
class IncomingEvent:
    """One lead, sale or refund, whatever route it came by.

    - lead: `customer_external_id` and one of `click_id` (the `tclid`), `code` or `partner_id`;
      optionally `customer_email` (matches deal registrations, flags self-referrals).
    - sale: `customer_external_id`, `amount` (Decimal, never float) and `currency` (ISO 4217);
      optionally `click_id` / `code` for a customer Tandem has not seen as a lead.
    - refund: `sale_event_id` (the sale's `event_id`, or its `processor_ref`); optionally
      `amount` (default: whatever of the sale is not refunded yet) and `currency` (default:
      the sale's own currency).
    `processor_ref` is the processor's own id for the sale or refund ("stripe:pi_123",
    "hubspot:deal:42"): the same sale reaching Tandem by two routes is still one sale.
    `occurred_at` defaults to the moment the event is accepted. `raw` is the original payload,
    kept for display.
    """

    kind: str
    event_id: str
    customer_external_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    occurred_at: datetime | None = None
    click_id: str | None = None
    code: str | None = None
    partner_id: int | None = None
    customer_email: str | None = None
    sale_event_id: str | None = None
    processor_ref: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def problems(self) -> dict[str, list[str]]:
        """What is wrong with the event, by field; empty when it can be accepted."""
        errors: dict[str, list[str]] = {}

        def add(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        if self.kind not in KINDS:
            add("type", UNKNOWN_KIND)
            return errors
        _check_id(self.event_id, "event_id", add, required=True)
        for name in ("customer_external_id", "click_id", "code", "sale_event_id", "processor_ref"):
            _check_id(getattr(self, name), name, add, required=False)
        if self.kind in ("lead", "sale") and not (self.customer_external_id or "").strip():
            add("customer_external_id", "Send your own id for the customer.")
        if self.kind == "lead" and not (self.click_id or self.code or self.partner_id is not None):
            add("click_id", "Send the click id (tclid), a referral code or a partner_id, so the lead can be credited.")
        if self.kind == "sale":
            if self.amount is None:
                add("amount", 'Send the sale amount as a decimal string, such as "49.99".')
            if not self.currency:
                add("currency", "Send the ISO 4217 currency of the amount, such as USD.")
        if self.kind == "refund" and not (self.sale_event_id or "").strip():
            add("sale_event_id", "Send the event_id of the sale being refunded.")
        if self.amount is not None:
            problem = amount_problem(self.amount, allow_zero=self.kind == "sale")
            if problem:
                add("amount", problem)
        if self.currency and self.currency not in CURRENCIES:
            add("currency", f"“{self.currency}” is not an ISO 4217 currency code, such as USD or EUR.")
        elif (
            self.currency and isinstance(self.amount, Decimal) and (places := excess_places(self.amount, self.currency))
        ):
            add("amount", places)  # never rounded: 49.999 USD is refused, not stored as 50.00
        if self.partner_id is not None and (not isinstance(self.partner_id, int) or self.partner_id <= 0):
            add("partner_id", "Send the id of one of your partners.")
        if self.customer_email:
            try:
                validate_email(self.customer_email)
            except ValidationError:
                add("customer_email", "Enter a valid email address.")
        if self.occurred_at is not None and not isinstance(self.occurred_at, datetime):
            add("occurred_at", "Send a date and time such as 2026-01-15T10:30:00Z.")
        return errors

    def to_payload(self, *, received_at: datetime) -> dict[str, Any]:
        """The event as stored: strings for amounts and times, so nothing is lost to floats."""
        occurred = self.occurred_at or received_at
        if timezone.is_naive(occurred):
            occurred = occurred.replace(tzinfo=UTC)
        payload: dict[str, Any] = {"occurred_at": occurred.isoformat()}
        for name in ("customer_external_id", "click_id", "code", "sale_event_id", "processor_ref", "currency"):
            value = getattr(self, name)
            if value:
                payload[name] = value.strip()
        if self.customer_email:
            payload["customer_email"] = self.customer_email.strip().lower()
        if self.amount is not None:
            payload["amount"] = str(self.amount)
        if self.partner_id is not None:
            payload["partner_id"] = self.partner_id
        if self.raw:
            payload["raw"] = self.raw
        return payload


def _check_id(value: str | None, name: str, add: Any, *, required: bool) -> None:
    if value is None:
        if required:
            add(name, "This field is required.")
        return
    if not isinstance(value, str) or not value.strip():
        add(name, "Send a non-empty string.")
    elif len(value.strip()) > MAX_ID_LENGTH:
        add(name, f"Use at most {MAX_ID_LENGTH} characters.")


def amount_problem(amount: Any, *, allow_zero: bool) -> str | None:
    """Why an amount cannot be money, or None. Floats are refused: they cannot hold cents exactly."""
    if isinstance(amount, float) or not isinstance(amount, Decimal):
        return 'Send the amount as a decimal string such as "49.99"; JSON numbers can lose cents.'
    if not amount.is_finite():
        return "The amount must be a finite number."
    if amount < 0 or (amount == 0 and not allow_zero):
        return "The amount must be more than zero." if not allow_zero else "The amount cannot be negative."
    if amount > MAX_AMOUNT:
        return "The amount is too large."
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -AMOUNT_PLACES:
        return f"Use at most {AMOUNT_PLACES} decimal places."
    return None


@dataclass(frozen=True)
class EventReceipt:
    event_id: str
    status: str  # "accepted" | "duplicate"

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


class InvalidEvents(ValueError):
    """Some events cannot be accepted; `problems` maps each one's index to its fields' errors."""

    def __init__(self, problems: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(f"{len(problems)} event(s) are invalid")
        self.problems = problems


# One encoder for every payload: json.dumps(cls=...) would build a new one per event.
_encode = DjangoJSONEncoder(separators=(",", ":")).encode

_INSERT = """
INSERT INTO attribution_inboundevent
    (workspace_id, event_id, kind, source, payload, related_event_id, processor_ref, customer_external_id, status,
     reason, reason_code, attempts, received_at)
SELECT %b, t.event_id, t.kind, %b, t.payload::jsonb, t.related, t.processor_ref, t.customer, 'received', '', '', 0, %b
FROM unnest(%t::text[], %t::text[], %t::text[], %t::text[], %t::text[], %t::text[])
     AS t(event_id, kind, payload, related, processor_ref, customer)
ON CONFLICT (workspace_id, event_id) DO NOTHING
RETURNING id, event_id
"""


def accept_events(
    *, workspace: Workspace, events: Sequence[IncomingEvent], source: str, checked: bool = False
) -> list[EventReceipt]:
    """Record events in the caller's transaction and process them after it commits.

    One receipt per event, in order: "accepted", or "duplicate" when the workspace already has
    an event with that id (or an earlier one in the same list does). Raises `InvalidEvents`
    (nothing recorded) if any event is invalid: callers validate first when they want to accept
    the good ones of a mixed batch, and say `checked=True` when every event's `problems()` was
    just found empty (the batch API: checking 10,000 events twice is measurable). If the broker
    is down the events are still recorded and the sweeper picks them up; the caller's request
    does not fail.
    """
    if source not in InboundEvent.Source.values:
        raise ValueError(f"Unknown source {source!r}")
    if not checked:
        problems = {index: found for index, event in enumerate(events) if (found := event.problems())}
        if problems:
            raise InvalidEvents(problems)
    if not events:
        return []
    now = timezone.now()
    event_ids = [event.event_id.strip() for event in events]
    payloads = [_encode(event.to_payload(received_at=now)) for event in events]
    related = [(event.sale_event_id or "").strip() if event.kind == "refund" else "" for event in events]
    columns = [
        event_ids,
        [e.kind for e in events],
        payloads,
        related,
        [(e.processor_ref or "").strip() for e in events],
        [(e.customer_external_id or "").strip() if e.kind != "refund" else "" for e in events],
    ]
    rows = fetch_rows(_INSERT, [workspace.pk, source, now, *map(text_array, columns)])
    inserted = {event_id: pk for pk, event_id in rows}
    new_ids = sorted(inserted.values())
    receipts = []
    for event_id in event_ids:
        # A repeated id within the list: only its first occurrence was inserted.
        status = "accepted" if inserted.pop(event_id, None) is not None else "duplicate"
        receipts.append(EventReceipt(event_id=event_id, status=status))
    if new_ids:
        enqueue_on_commit(workspace.pk, new_ids)
    return receipts


def enqueue_on_commit(
    workspace_id: int, event_ids: list[int], *, wait: bool = False, countdown: float | None = None
) -> None:
    """Hand events to the workers once the transaction commits. A broker failure never fails the
    caller: the events are safe in PostgreSQL and the sweeper enqueues them later."""
    transaction.on_commit(partial(_enqueue, workspace_id, list(event_ids), wait, countdown), robust=True)


def _enqueue(workspace_id: int, event_ids: list[int], wait: bool, countdown: float | None) -> None:
    # Imported here: tasks import the processor, which imports this module.
    from attribution.tasks import enqueue_processing

    enqueue_processing(workspace_id, event_ids, wait=wait, countdown=countdown)


def conflicting_fields(*, workspace: Workspace, events: Sequence[IncomingEvent]) -> dict[str, list[str]]:
    """For events whose event_id the workspace already has: the fields where the stored event differs.

    Answers {event_id: [field, ...]} for those that differ; an identical repeat is absent (a plain
    duplicate). A field the repeat leaves out that defaults on arrival (occurred_at) is not compared.
    """
    if not events:
        return {}
    stored = dict(
        InboundEvent.objects.for_workspace(workspace)
        .filter(event_id__in=[e.event_id.strip() for e in events])
        .values_list("event_id", "payload")
    )
    found: dict[str, list[str]] = {}
    for event in events:
        event_id = event.event_id.strip()
        before = stored.get(event_id)
        if before is None:
            continue
        now = event.to_payload(received_at=timezone.now())
        names = set(before) | set(now)
        names -= {"raw"} | ({"occurred_at"} if event.occurred_at is None else set())
        differ = sorted(name for name in names if not _same(name, before.get(name), now.get(name)))
        if differ:
            found[event_id] = differ
    return found


def _same(name: str, before: Any, now: Any) -> bool:
    if name == "amount" and before is not None and now is not None:
        return Decimal(str(before)) == Decimal(str(now))  # "49.90" is "49.9"
    if name == "occurred_at" and before and now:
        return datetime.fromisoformat(before) == datetime.fromisoformat(now)
    return before == now
