"""`/api/v1/webhook-endpoints`: register the URLs that hear Tandem's events, and read their delivery logs."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from accounts.api_platform import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ApiError,
    actor_label,
    get_or_404,
    workspace_of,
)
from accounts.outbound import services
from accounts.outbound.events import EVENT_TYPES
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])

_EVENTS = "The events it hears: " + ", ".join(f"`{name}`" for name in EVENT_TYPES) + "."
_EVENT_LIST: dict[str, Any] = {"items": {"type": "string", "enum": list(EVENT_TYPES)}, "minItems": 1}
_URL = (
    "An http(s) URL on the public internet. Private, loopback, link-local and cloud metadata addresses are "
    "refused (loopback is allowed in development mode)."
)


class EndpointIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description=_URL, min_length=1, max_length=2000)
    events: list[str] = Field(description=_EVENTS, json_schema_extra=_EVENT_LIST)
    description: str = Field("", max_length=200)


class EndpointChanges(Schema):
    """Only the fields sent change; `enabled: true` turns an endpoint that answered 410 back on."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description=_URL, min_length=1, max_length=2000)
    events: list[str] | None = Field(None, description=_EVENTS, json_schema_extra=_EVENT_LIST)
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None


class EndpointOut(Schema):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str = Field(description="Why Tandem stopped sending (it answered 410 Gone); empty when on.")
    created_at: str


class NewEndpointOut(EndpointOut):
    secret: str = Field(
        description="`whsec_…`: verify each delivery's `webhook-signature` with it (Standard Webhooks). "
        "Shown only in this answer."
    )


class DeliveryOut(Schema):
    id: str = Field(description="The `webhook-id` header, the same on every retry")
    endpoint_id: str
    event_type: str
    status: str = Field(description="`pending` (sending or waiting to retry), `succeeded` or `failed`")
    attempts: int
    next_attempt_at: str | None
    last_attempt_at: str | None
    response_status: int | None = Field(description="The receiver's last HTTP status; null when it did not answer")
    response_body: str = Field(description="The start of the receiver's last answer")
    error: str = Field(description="Why the last attempt got no answer, if it did not")
    payload: dict[str, Any] = Field(description="The body sent: `{type, timestamp, data}`")
    created_at: str


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at.isoformat(),
    }


def delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": _iso(delivery.next_attempt_at),
        "last_attempt_at": _iso(delivery.last_attempt_at),
        "response_status": delivery.response_status,
        "response_body": delivery.response_body,
        "error": delivery.last_error,
        "payload": json.loads(delivery.body),
        "created_at": delivery.created_at.isoformat(),
    }


# These tables key on (workspace, id) with string ids, so pages go newest first by (created_at, id).
def _encode_cursor(created_at: dt.datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = text.split("|", 1)
        created_at = dt.datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return created_at, row_id
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ApiError(
            422, "invalid", "That cursor is not valid.", {"cursor": ["Use the `next` value of a previous page."]}
        ) from exc


def _page[M: (WebhookEndpoint, WebhookDelivery)](
    rows: QuerySet[M], *, cursor: str | None, limit: int | None, serialize: Any
) -> dict[str, Any]:
    size = min(max(limit or DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    rows = rows.order_by("-created_at", "-id")
    if cursor:
        created_at, row_id = _decode_cursor(cursor)
        rows = rows.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=row_id))
    found = list(rows[: size + 1])
    more = len(found) > size
    found = found[:size]
    last = found[-1] if found else None
    return {
        "items": [serialize(row) for row in found],
        "next": _encode_cursor(last.created_at, last.id) if more and last else None,
    }


def _endpoint(request: HttpRequest, endpoint_id: str) -> WebhookEndpoint:
    return get_or_404(request, WebhookEndpoint.objects, id=endpoint_id)


@router.get("/webhook-endpoints", summary="List webhook endpoints")
def list_endpoints(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
    rows = WebhookEndpoint.objects.for_workspace(workspace_of(request))
    return _page(rows, cursor=cursor, limit=limit, serialize=endpoint_out)


@router.post(
    "/webhook-endpoints",
    response={201: NewEndpointOut},
    summary="Register a webhook endpoint",
    description=(
        "Answers the endpoint with its signing `secret`, shown only here. Deliveries are signed by the "
        "Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature`), retried after "
        "5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; an endpoint answering 410 is turned off."
    ),
)
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Status[dict[str, Any]]:
    endpoint = services.create_endpoint(
        workspace=workspace_of(request),
        url=payload.url,
        events=payload.events,
        description=payload.description,
        by=None,
        actor_label=actor_label(request),
    )
    return Status(201, {**endpoint_out(endpoint), "secret": endpoint.signing_secret})


@router.get("/webhook-endpoints/{endpoint_id}", response=EndpointOut, summary="One webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: str) -> dict[str, Any]:
    return endpoint_out(_endpoint(request, endpoint_id))


@router.patch("/webhook-endpoints/{endpoint_id}", response=EndpointOut, summary="Change a webhook endpoint")
def update_endpoint(request: HttpRequest, endpoint_id: str, payload: EndpointChanges) -> dict[str, Any]:
    endpoint = _endpoint(request, endpoint_id)
    changes = payload.model_dump(exclude_unset=True)
    nulls = [name for name, value in changes.items() if value is None]
    if nulls:
        raise ApiError(
            422,
            "invalid",
            "Leave out a field to keep it; null is not a value.",
            {f: ["May not be null."] for f in nulls},
        )
    updated = services.update_endpoint(endpoint=endpoint, by=None, actor_label=actor_label(request), **changes)
    return endpoint_out(updated)


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    response={204: None},
    summary="Remove a webhook endpoint and its delivery log",
)
def delete_endpoint(request: HttpRequest, endpoint_id: str) -> Status[None]:
    services.delete_endpoint(endpoint=_endpoint(request, endpoint_id), by=None, actor_label=actor_label(request))
    return Status(204, None)


@router.get(
    "/webhook-endpoints/{endpoint_id}/deliveries",
    summary="The endpoint's deliveries, newest first: what was sent and how the receiver answered",
)
def list_deliveries(
    request: HttpRequest, endpoint_id: str, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    endpoint = _endpoint(request, endpoint_id)
    rows = WebhookDelivery.objects.for_workspace(endpoint.workspace).filter(endpoint_id=endpoint.id)
    return _page(rows, cursor=cursor, limit=limit, serialize=delivery_out)


@router.post(
    "/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/resend",
    response=DeliveryOut,
    summary="Send a delivery again now, with the same webhook-id",
)
def resend_delivery(request: HttpRequest, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_or_404(request, WebhookDelivery.objects.filter(endpoint_id=endpoint.id), id=delivery_id)
    return delivery_out(services.resend_delivery(delivery=delivery, by=None, actor_label=actor_label(request)))
