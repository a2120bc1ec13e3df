"""The attribution endpoints of /api/v1/: tracking leads, sales and refunds, events, commissions,
reward rules and exchange rates.

Tracking endpoints only validate and record (the inbox); attribution happens right after, in the
workers. Every write is idempotent by `event_id`; the `Idempotency-Key` header, and the one
transaction each write runs in, are the API platform's (accounts/api_platform.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.renderers import JSONRenderer
from pydantic import Field, field_validator

from accounts.api_platform import (
    ApiError,
    Id,
    IsoDate,
    actor_label,
    check_items_separately,
    cursor_page,
    idempotency_key,
    workspace_of,
)
from accounts.models import Workspace
from attribution import selectors, services
from attribution.api_input import (  # noqa: F401 - SCHEMAS, _fast_event and BatchAnswer re-exported for the tests
    AMOUNT_SCHEMA,
    SCHEMAS,
    BatchAnswer,
    BatchIn,
    EventAnswer,
    LeadIn,
    RefundIn,
    SaleIn,
    _decimal_string,
    _fast_event,
    _Strict,
    read_event,
    to_event,
)
from attribution.inbox import NOT_AN_OBJECT, IncomingEvent, conflicting_fields
from attribution.models import Commission, ExchangeRate, InboundEvent, RewardRule
from attribution.rewards import round_money
from attribution.rules import RuleInput, terms_of
from core.memory import gc_paused
from core.text import find_unusable_text
from partners.models import PartnerGroup, Program

router = Router(tags=["tracking"])
MAX_BATCH = 10_000
# An event with unusable text is refused alone, by its index (see _track_batch).
check_items_separately("/events/batch", "events")


# --- Tracking -------------------------------------------------------------------------------------


def _track(request: HttpRequest, event: IncomingEvent) -> Status[Any]:
    problems = event.problems()
    if problems:
        raise ApiError(422, "invalid", "Some fields are missing or invalid.", problems)
    workspace = workspace_of(request)
    receipt = services.accept_events(workspace=workspace, events=[event], source=InboundEvent.Source.API)[0]
    if not receipt.accepted and (differ := conflicting_fields(workspace=workspace, events=[event])):
        fields = next(iter(differ.values()))
        raise ApiError(
            409,
            "event_conflict",
            f"An event with this event_id was already received with a different {', '.join(fields)}. "
            "Send a new event_id for a new event.",
            {name: [CONFLICT] for name in fields},
        )
    return Status(202 if receipt.accepted else 200, {"event_id": receipt.event_id, "status": receipt.status})


TRACK_RESPONSES = {200: EventAnswer, 202: EventAnswer}
CONFLICT = "Differs from the event first received with this event_id."


@router.post(
    "/track/lead",
    response=TRACK_RESPONSES,
    summary="Track a lead",
    description="A referred customer signed up. Send `customer_external_id` and one of `click_id` (the `tclid` "
    "on your landing URL), `code` or `partner_id`. 202 when accepted, 200 when it is a duplicate.",
)
def track_lead(request: HttpRequest, payload: LeadIn) -> Status[Any]:
    return _track(request, to_event("lead", payload, idempotency_key=idempotency_key(request)))


@router.post(
    "/track/sale",
    response=TRACK_RESPONSES,
    summary="Track a sale",
    description="A customer paid. `amount` is a decimal string in `currency`. A customer who is not a referral "
    "yet may come with `click_id` or `code`. 202 when accepted, 200 when `event_id` was seen before.",
)
def track_sale(request: HttpRequest, payload: SaleIn) -> Status[Any]:
    return _track(request, to_event("sale", payload))


@router.post(
    "/track/refund",
    response=TRACK_RESPONSES,
    summary="Track a refund",
    description="Money went back to the customer. The commission of the sale is reversed in proportion. A refund "
    "that arrives before its sale waits for it.",
)
def track_refund(request: HttpRequest, payload: RefundIn) -> Status[Any]:
    return _track(request, to_event("refund", payload))


@router.post(
    "/events/batch",
    response={200: BatchAnswer, 202: BatchAnswer},
    summary="Track up to 10,000 events at once",
    description="Each event is validated on its own: the valid ones are accepted even if others are not, and "
    "`errors` names the fields of each invalid one by its index.",
)
def track_batch(request: HttpRequest, payload: BatchIn) -> HttpResponse:
    if len(payload.events) > MAX_BATCH:
        raise ApiError(
            422,
            "invalid",
            f"Send at most {MAX_BATCH:,} events per batch.",
            {"events": [f"{len(payload.events):,} events; split them into batches of {MAX_BATCH:,}."]},
        )
    with gc_paused():
        answered = _track_batch(request, payload.events)
    # Up to 10,000 results and errors, built here in BatchAnswer's shape from plain ints and strings:
    # rendered as they are, since validating each one against the schema again took about a third of
    # the request's time. tests/attribution/test_api_track.py holds the answer to the schema.
    return HttpResponse(
        _JSON.render(request, answered.value, response_status=answered.status_code),
        status=answered.status_code,
        content_type=f"{_JSON.media_type}; charset={_JSON.charset}",
    )


_JSON = JSONRenderer()  # the API's renderer: config/api.py sets no other


def _track_batch(request: HttpRequest, events: list[Any]) -> Status[Any]:
    key = idempotency_key(request)
    good: list[tuple[int, IncomingEvent]] = []
    errors: list[dict[str, Any]] = []
    # One pass over the whole batch; each event is looked at again only when one of them has unusable text.
    some_unusable = find_unusable_text(events) is not None
    for index, item in enumerate(events):
        if not isinstance(item, dict):
            errors.append({"index": index, "fields": {"body": [NOT_AN_OBJECT]}})
            continue
        if some_unusable and (found := find_unusable_text(item)) is not None:
            errors.append({"index": index, "fields": {found[0] or "body": [found[1]]}})
            continue
        event, problems = read_event(item, idempotency_key=key, suffix=f":{index}")
        if event is None:
            errors.append({"index": index, "fields": problems})
        else:
            good.append((index, event))
    workspace = workspace_of(request)
    receipts = services.accept_events(
        workspace=workspace, events=[e for _, e in good], source=InboundEvent.Source.API, checked=True
    )
    repeated = [event for (_, event), r in zip(good, receipts, strict=True) if not r.accepted]
    differ = conflicting_fields(workspace=workspace, events=repeated) if repeated else {}
    results = []
    for (index, _), r in zip(good, receipts, strict=True):
        if r.event_id in differ:
            errors.append({"index": index, "fields": {name: [CONFLICT] for name in differ[r.event_id]}})
        else:
            results.append({"index": index, "event_id": r.event_id, "status": r.status})
    errors.sort(key=lambda error: error["index"])
    accepted = any(r.accepted for r in receipts)
    return Status(202 if accepted else 200, {"results": results, "errors": errors})


# --- Events ---------------------------------------------------------------------------------------


def commission_out(c: Commission) -> dict[str, Any]:
    return {
        "id": c.pk,
        "partner_id": c.partner_id,
        "program_id": c.program_id,
        "kind": c.kind,
        "status": c.status,
        "amount": _money(c.amount, c.currency),
        "reversed_amount": _money(c.reversed_amount, c.currency),
        "currency": c.currency,
        "event_id": c.conversion.event_id if c.conversion else None,
        "reward_rule": {"id": c.reward_rule_id, "version": c.reward_rule.version, "name": c.reward_rule.name}
        if c.reward_rule is not None
        else None,
        "description": c.description,
        "occurred_at": c.occurred_at.isoformat(),
        "hold_until": c.hold_until.isoformat(),
        "approved_at": c.approved_at.isoformat() if c.approved_at else None,
        "paid_at": c.paid_at.isoformat() if c.paid_at else None,
        "rejection_reason": c.rejection_reason,
        "risk": risk_out(c),
        "explanation": c.explanation,
        "created_at": c.created_at.isoformat(),
    }


def risk_out(c: Commission) -> dict[str, Any]:
    """The fraud score (0-100) and its sentences; `in_review` status means it waits for a manager."""
    return {"score": c.risk_score, "reasons": [r["text"] for r in c.risk_reasons or [] if isinstance(r, dict)]}


def _money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency):f}"


@router.get(
    "/events/{path:event_id}",
    summary="The processing state of one tracked event",
    description="`status` is received (not processed yet, or a refund waiting for its sale), attributed, "
    "unattributed (see `reason`), duplicate or failed.",
)
def get_event(request: HttpRequest, event_id: str) -> dict[str, Any]:
    workspace = workspace_of(request)
    event = selectors.get_event_or_404(workspace, event_id=event_id)
    conversion = selectors.conversion_of_event(workspace, event)
    return {
        "event_id": event.event_id,
        "type": event.kind,
        "source": event.source,
        "status": event.status,
        "reason": event.reason,
        "reason_code": event.reason_code,
        "attempts": event.attempts,
        "received_at": event.received_at.isoformat(),
        "processed_at": event.processed_at.isoformat() if event.processed_at else None,
        "conversion": {
            "kind": conversion.kind,
            "partner_id": conversion.partner_id,
            "amount": _money(conversion.amount, conversion.currency),
            "currency": conversion.currency,
        }
        if conversion
        else None,
        "commissions": [commission_out(c) for c in selectors.commissions_of_conversion(workspace, conversion)]
        if conversion
        else [],
    }


# --- Commissions ---------------------------------------------------------------------------------


class CommissionFilters(Schema):
    partner_id: int | None = None
    status: str | None = None
    cursor: str | None = None
    limit: int | None = None


@router.get("/commissions", summary="List commissions (filters: partner_id, status)", tags=["commissions"])
def list_commissions(request: HttpRequest, filters: Query[CommissionFilters]) -> dict[str, Any]:
    if filters.status and filters.status not in Commission.Status.values:
        raise ApiError(
            422, "invalid", "Unknown status.", {"status": [f"Use one of {', '.join(Commission.Status.values)}."]}
        )
    rows = selectors.commissions(workspace_of(request), partner_id=filters.partner_id, status=filters.status or "")
    return cursor_page(rows, cursor=filters.cursor, limit=filters.limit, serialize=commission_out)


class ApproveIn(_Strict):
    ids: list[Id] | None = Field(None, max_length=10_000)
    due: bool = Field(False, description="Approve every pending commission whose hold has ended")


class RejectIn(_Strict):
    ids: list[Id] = Field(max_length=10_000)
    reason: str = Field(min_length=1, max_length=1000, description="Shown to the partner")


@router.post("/commissions/approve", summary="Approve commissions (ids, or due: true)", tags=["commissions"])
def approve(request: HttpRequest, payload: ApproveIn) -> Status[Any]:
    if not payload.due and not payload.ids:
        raise ApiError(
            422,
            "invalid",
            "Send `ids`, or `due: true` for every commission whose hold has ended.",
            {"ids": ["Name at least one commission, or send due: true."]},
        )
    ids = services.approve_commissions(
        workspace=workspace_of(request), ids=payload.ids, due=payload.due, by=None, actor_label=actor_label(request)
    )
    return Status(200, {"approved": ids, "count": len(ids)})


@router.post(
    "/commissions/reject", summary="Reject commissions with a reason the partner will read", tags=["commissions"]
)
def reject(request: HttpRequest, payload: RejectIn) -> Status[Any]:
    ids = services.reject_commissions(
        workspace=workspace_of(request),
        ids=payload.ids,
        reason=payload.reason,
        by=None,
        actor_label=actor_label(request),
    )
    return Status(200, {"rejected": ids, "count": len(ids)})


# --- Reward rules ---------------------------------------------------------------------------------


def rule_out(rule: RewardRule) -> dict[str, Any]:
    currency = rule.program.currency
    return {
        "id": rule.pk,
        "rule_key": str(rule.rule_key),
        "version": rule.version,
        "program_id": rule.program_id,
        "group_id": rule.group_id,
        "name": rule.name,
        "sale_type": rule.sale_type,
        "sale_value": f"{rule.sale_value.normalize():f}",
        "duration": rule.duration,
        "duration_months": rule.duration_months,
        "lead_amount": _money(rule.lead_amount, currency),
        "cap_per_customer": _money(rule.cap_per_customer, currency) if rule.cap_per_customer is not None else None,
        "min_sale_amount": _money(rule.min_sale_amount, currency) if rule.min_sale_amount is not None else None,
        "currency": currency,
        "effective_from": rule.effective_from.isoformat(),
        "describe": terms_of(rule).describe(currency),
    }


class RuleIn(_Strict):
    name: str = Field(min_length=1, max_length=120)
    sale_type: Literal["percent", "flat"] = "percent"
    sale_value: Decimal = Field(
        description='Percent ("20" = 20%) or a flat amount, as a decimal string', json_schema_extra=AMOUNT_SCHEMA
    )
    duration: Literal["one_time", "months", "lifetime"] = "lifetime"
    duration_months: int | None = Field(None, ge=1, le=600)
    lead_amount: Decimal | None = Field(
        None, description="A flat reward per new referral, as a decimal string", json_schema_extra=AMOUNT_SCHEMA
    )
    cap_per_customer: Decimal | None = Field(None, json_schema_extra=AMOUNT_SCHEMA)
    min_sale_amount: Decimal | None = Field(None, json_schema_extra=AMOUNT_SCHEMA)
    group_id: Id | None = Field(None, description="Set: a version of this group's override rule")
    effective_from: datetime | None = Field(None, description="Default: now")

    _decimals = field_validator("sale_value", "lead_amount", "cap_per_customer", "min_sale_amount", mode="before")(
        _decimal_string
    )


def _program(workspace: Workspace, program_id: int) -> Program:
    return selectors.get_program_or_404(workspace, program_id)


@router.get("/programs/{int:program_id}/rewards", summary="A program's reward rules, every version", tags=["rewards"])
def list_rewards(
    request: HttpRequest, program_id: int, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    workspace = workspace_of(request)
    program = _program(workspace, program_id)
    services.ensure_default_reward_rule(program)
    return cursor_page(selectors.reward_rules(workspace, program), cursor=cursor, limit=limit, serialize=rule_out)


@router.post(
    "/programs/{int:program_id}/rewards",
    response={201: dict},
    summary="Add a version of a reward rule",
    description="The program's rule (or a group's override, with `group_id`) gets a new version effective from "
    "`effective_from`; earlier sales keep the version they were computed with.",
    tags=["rewards"],
)
def add_reward(request: HttpRequest, program_id: int, payload: RuleIn) -> Status[Any]:
    workspace = workspace_of(request)
    program = _program(workspace, program_id)
    group = None
    if payload.group_id is not None:
        group = PartnerGroup.objects.for_workspace(workspace).filter(pk=payload.group_id).first()
        if group is None:
            raise ApiError(
                422, "invalid", "There is no group with that id in this workspace.", {"group_id": ["Unknown group."]}
            )
    data = RuleInput(
        name=payload.name,
        sale_type=payload.sale_type,
        sale_value=payload.sale_value,
        duration=payload.duration,
        duration_months=payload.duration_months,
        lead_amount=payload.lead_amount or Decimal("0"),
        cap_per_customer=payload.cap_per_customer,
        min_sale_amount=payload.min_sale_amount,
    )
    rule = services.add_reward_rule_version(
        program=program,
        group=group,
        data=data,
        effective_from=payload.effective_from,
        by=None,
        actor_label=actor_label(request),
    )
    return Status(201, rule_out(rule))


# --- Exchange rates ----------------------------------------------------------------------------------


def rate_out(rate: ExchangeRate) -> dict[str, Any]:
    return {
        "id": rate.pk,
        "date": rate.date.isoformat(),
        "from_currency": rate.from_currency,
        "to_currency": rate.to_currency,
        "rate": f"{rate.rate.normalize():f}",
        "created_at": rate.created_at.isoformat(),
    }


class RateIn(_Strict):
    date: IsoDate
    from_currency: str = Field(min_length=3, max_length=3)
    to_currency: str = Field(min_length=3, max_length=3)
    rate: Decimal = Field(
        description='1 from_currency = rate to_currency, as a decimal string such as "1.0842"',
        json_schema_extra=AMOUNT_SCHEMA,
    )

    _rate = field_validator("rate", mode="before")(_decimal_string)


class RateFilters(Schema):
    date: IsoDate | None = None
    from_currency: str | None = None
    to_currency: str | None = None
    cursor: str | None = None
    limit: int | None = None


@router.get("/exchange-rates", summary="The workspace's exchange rates", tags=["exchange rates"])
def list_rates(request: HttpRequest, filters: Query[RateFilters]) -> dict[str, Any]:
    rows = selectors.exchange_rates(
        workspace_of(request), day=filters.date, from_currency=filters.from_currency, to_currency=filters.to_currency
    )
    return cursor_page(rows, cursor=filters.cursor, limit=filters.limit, serialize=rate_out)


@router.post(
    "/exchange-rates",
    response={200: dict, 201: dict},
    summary="Add the rate of a day",
    tags=["exchange rates"],
    description="Sales in another currency than their program's are converted with the rate of their day; "
    "sales that waited for this rate are processed again. 201 when added, 200 when it already was.",
)
def add_rate(request: HttpRequest, payload: RateIn) -> Status[Any]:
    rate, created = services.add_exchange_rate(
        workspace=workspace_of(request),
        day=payload.date,
        from_currency=payload.from_currency,
        to_currency=payload.to_currency,
        rate=payload.rate,
        by=None,
        actor_label=actor_label(request),
    )
    return Status(201 if created else 200, rate_out(rate))
