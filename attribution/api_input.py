"""What the tracking endpoints read: the schemas of leads, sales, refunds and batches, the batch's
fast path, and the inbox event each one means. Split from attribution/api.py, which serves them."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError

from accounts.api_platform import Id
from attribution.inbox import UNKNOWN_FIELD, UNKNOWN_KIND, IncomingEvent
from core.currency import CURRENCIES
from core.money import AmountError, amount_json_schema, decimal_string, parse_amount

AMOUNT_DOC = (
    'A decimal string such as "49.99", with at most the currency\'s decimals (JSON numbers, signs, '
    "exponents and spaces are refused: money is taken as sent or not at all)."
)


# Amounts travel as strings (core.money); the name reads as the constant it is used as.
AMOUNT_SCHEMA = amount_json_schema


# --- Input -------------------------------------------------------------------------------------


class _Strict(Schema):
    # A misspelt field ("amout") is an error rather than silently ignored.
    model_config = ConfigDict(extra="forbid")


_decimal_string = decimal_string


def _amount_in_currency(value: Any, info: ValidationInfo) -> Decimal | None:
    """An amount as sent or refused, in the currency validated before it (so `currency` comes first)."""
    if value is None:
        return None
    currency = info.data.get("currency")
    return parse_amount(value, currency if currency in CURRENCIES else None)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class LeadIn(_Strict):
    customer_external_id: str = Field(min_length=1, max_length=200, description="Your own id for the customer")
    click_id: str | None = Field(None, max_length=200, description="The `tclid` Tandem added to the landing URL")
    code: str | None = Field(None, max_length=200, description="A referral code the customer typed")
    partner_id: Id | None = Field(None, description="Credit this partner directly")
    customer_email: str | None = Field(None, max_length=254)
    occurred_at: datetime | None = Field(None, description="Default: when Tandem receives it")
    event_id: str | None = Field(
        None, max_length=200, description="Default: the Idempotency-Key, else a hash of the lead"
    )


class SaleIn(_Strict):
    event_id: str = Field(min_length=1, max_length=200)
    customer_external_id: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, such as USD")
    amount: Decimal = Field(description=AMOUNT_DOC, json_schema_extra=AMOUNT_SCHEMA)
    occurred_at: datetime | None = None
    click_id: str | None = Field(None, max_length=200)
    code: str | None = Field(None, max_length=200)
    customer_email: str | None = Field(None, max_length=254)

    _amount = field_validator("amount", mode="before")(_amount_in_currency)
    _currency = field_validator("currency", mode="before")(_upper)


class RefundIn(_Strict):
    event_id: str = Field(min_length=1, max_length=200)
    sale_event_id: str = Field(min_length=1, max_length=200, description="The event_id of the sale refunded")
    currency: str | None = Field(None, min_length=3, max_length=3, description="Default: the sale's currency")
    amount: Decimal | None = Field(
        None, description=AMOUNT_DOC + " Default: all that is left of the sale.", json_schema_extra=AMOUNT_SCHEMA
    )
    occurred_at: datetime | None = None

    _amount = field_validator("amount", mode="before")(_amount_in_currency)
    _currency = field_validator("currency", mode="before")(_upper)


SCHEMAS: dict[str, type[_Strict]] = {"lead": LeadIn, "sale": SaleIn, "refund": RefundIn}


# --- The batch's fast path -------------------------------------------------------------------------
# A 10,000-event batch spends most of its time in pydantic (ninja's Schema wraps every value). An
# event made only of plain, well-formed values is read directly instead; anything else, and every
# invalid event, goes through its schema, so answers and error messages are the schema's own. The
# fast path is never more lenient than the schema: it accepts a subset of what the schema accepts
# and builds the same IncomingEvent from it.

# tests/attribution/test_event_validation_property.py feeds both paths the same generated events.


def _text_fields(schema: type[_Strict]) -> dict[str, tuple[int, bool]]:
    """Field -> (maximum length, required) of the schema's free-text ids, read from the schema itself."""
    found: dict[str, tuple[int, bool]] = {}
    for name, info in schema.model_fields.items():
        if name in ("currency",) or info.annotation not in (str, str | None):
            continue
        longest = next(m.max_length for m in info.metadata if hasattr(m, "max_length"))
        # A lead without an event_id takes it from a hash of its validated fields: LeadIn's business.
        found[name] = (longest, info.is_required() or name == "event_id")
    return found


# Per type: the string ids (as above), and the schema's other fields, which the fast path reads below.
_FAST_IDS: dict[str, dict[str, tuple[int, bool]]] = {kind: _text_fields(schema) for kind, schema in SCHEMAS.items()}
_FAST_OTHER: dict[str, frozenset[str]] = {
    kind: frozenset(schema.model_fields) - _FAST_IDS[kind].keys() | {"type"} for kind, schema in SCHEMAS.items()
}
_MAX_ID = 2**63 - 1  # accounts.api_platform.Id's bound
# Only the canonical RFC 3339 form: what datetime.fromisoformat and pydantic read alike.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")


def _fast_event(kind: str, item: dict[str, Any]) -> IncomingEvent | None:
    """The event `item` means if every value is plainly valid for its schema, else None."""
    ids, other = _FAST_IDS[kind], _FAST_OTHER[kind]
    values: dict[str, Any] = {}
    for name, value in item.items():
        if name in ids:
            if value is None and not ids[name][1]:
                continue
            if type(value) is not str or not value or len(value) > ids[name][0]:
                return None
            values[name] = value
        elif name not in other:
            return None  # an unknown field: the schema names it
    if any(required and name not in values for name, (_, required) in ids.items()):
        return None
    currency = item.get("currency")
    if currency is not None:
        if type(currency) is not str or len(currency := currency.strip().upper()) != 3:
            return None
        values["currency"] = currency
    elif kind == "sale":
        return None
    amount = item.get("amount")
    if amount is not None:
        # The schema's own rule (in the currency, if it is one); anything it refuses goes through the
        # schema for its message.
        if type(amount) is not str:
            return None
        try:
            values["amount"] = parse_amount(amount, currency if currency in CURRENCIES else None)
        except AmountError:
            return None
    elif kind == "sale":
        return None
    occurred_at = item.get("occurred_at")
    if occurred_at is not None:
        if type(occurred_at) is not str or not _RFC3339.match(occurred_at):
            return None
        try:
            values["occurred_at"] = datetime.fromisoformat(occurred_at)
        except ValueError:
            return None
    partner_id = item.get("partner_id")
    if partner_id is not None:
        if type(partner_id) is not int or not 1 <= partner_id <= _MAX_ID:
            return None
        values["partner_id"] = partner_id
    return IncomingEvent(kind=kind, **values)


class EventAnswer(Schema):
    event_id: str
    status: Literal["accepted", "duplicate"]


class BatchIn(_Strict):
    events: list[Any] = Field(
        description="Up to 10,000 objects: the fields of /track/lead, /track/sale or /track/refund, "
        "plus `type`: lead, sale or refund"
    )


class BatchResult(Schema):
    index: int
    event_id: str
    status: Literal["accepted", "duplicate"]


class BatchError(Schema):
    index: int
    fields: dict[str, list[str]]


class BatchAnswer(Schema):
    results: list[BatchResult]
    errors: list[BatchError]


def _pydantic_fields(exc: PydanticValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error.get("loc", ())) or "body"
        message = str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = UNKNOWN_FIELD
        fields.setdefault(name, []).append(message)
    return fields


def _lead_event_id(data: LeadIn, idempotency_key: str | None, suffix: str = "") -> str:
    if data.event_id:
        return data.event_id
    if idempotency_key:
        return f"lead:{idempotency_key}{suffix}"
    # Without any id, the same lead sent twice is still one lead.
    basis = json.dumps(data.model_dump(mode="json", exclude={"event_id"}), sort_keys=True)
    return "lead:" + hashlib.sha256(basis.encode()).hexdigest()[:40]


def to_event(kind: str, data: _Strict, *, idempotency_key: str | None = None, suffix: str = "") -> IncomingEvent:
    """The inbox event an API payload means."""
    if isinstance(data, LeadIn):
        return IncomingEvent(
            kind="lead",
            event_id=_lead_event_id(data, idempotency_key, suffix),
            customer_external_id=data.customer_external_id,
            occurred_at=data.occurred_at,
            click_id=data.click_id,
            code=data.code,
            partner_id=data.partner_id,
            customer_email=data.customer_email,
        )
    if isinstance(data, SaleIn):
        return IncomingEvent(
            kind="sale",
            event_id=data.event_id,
            customer_external_id=data.customer_external_id,
            amount=data.amount,
            currency=data.currency,
            occurred_at=data.occurred_at,
            click_id=data.click_id,
            code=data.code,
            customer_email=data.customer_email,
        )
    assert isinstance(data, RefundIn)
    return IncomingEvent(
        kind="refund",
        event_id=data.event_id,
        sale_event_id=data.sale_event_id,
        amount=data.amount,
        currency=data.currency,
        occurred_at=data.occurred_at,
    )


def read_event(
    item: dict[str, Any], *, idempotency_key: str | None = None, suffix: str = "", fast: bool = True
) -> tuple[IncomingEvent | None, dict[str, list[str]]]:
    """One event of a batch, `type` included: (the event, {}) when it can be accepted, else (None, its
    fields' errors). `fast=False` skips the fast path: the answer must not change (the property test)."""
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in SCHEMAS:
        return None, {"type": [UNKNOWN_KIND]}
    schema = SCHEMAS[kind]
    event = _fast_event(kind, item) if fast else None
    if event is None:
        try:
            data = schema.model_validate({k: v for k, v in item.items() if k != "type"})
        except PydanticValidationError as exc:
            return None, _pydantic_fields(exc)
        event = to_event(kind, data, idempotency_key=idempotency_key, suffix=suffix)
    problems = event.problems()
    return (None, problems) if problems else (event, {})
