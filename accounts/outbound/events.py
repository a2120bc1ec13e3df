"""What Tandem tells the tenant's systems, and how an event becomes deliveries.

`emit_event` is called by the service that made the change, inside its transaction: the deliveries
are rows of that transaction (a rollback leaves none), and are sent after commit. A workspace with no
endpoint for the event costs one cache read and nothing else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import Workspace
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

EVENT_TYPES: dict[str, str] = {
    "partner.created": "A partner joined a program (added, imported, invited or applied).",
    "referral.created": "A referred customer was credited to a partner.",
    "commission.created": "A sale earned a partner a commission.",
    "commission.approved": "A commission was approved for payment.",
    "commission.reversed": "A refund reversed a commission, in whole or in part.",
    "statement.issued": "A payout period was closed and a partner's statement issued.",
    "statement.paid": "A statement was marked paid.",
}

_CACHE_SECONDS = 60  # bounds how long a rare race (a read before an endpoint commits) can hide it


def _cache_key(workspace_id: int) -> str:
    return f"outbound:subscribed:{workspace_id}"


def subscribed_event_types(workspace_id: int) -> frozenset[str]:
    """The event types some enabled endpoint of the workspace hears; cached, as most have none."""
    try:
        cached = cache.get(_cache_key(workspace_id))
    except Exception:  # Redis away: ask the database rather than lose or block the caller's write
        cached = None
    if cached is not None:
        return frozenset(cached)
    types: set[str] = set()
    for events in WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True).values_list(
        "events", flat=True
    ):
        types.update(events)
    try:
        cache.set(_cache_key(workspace_id), sorted(types), _CACHE_SECONDS)
    except Exception:
        logger.warning("Could not cache the webhook subscriptions of workspace %s", workspace_id)
    return frozenset(types)


def forget_subscriptions(workspace_id: int) -> None:
    """After an endpoint changes: now, and again after commit (a read in between may have cached the old set)."""

    def forget() -> None:
        try:
            cache.delete(_cache_key(workspace_id))
        except Exception:
            logger.warning("Could not clear the webhook subscriptions of workspace %s", workspace_id)

    forget()
    transaction.on_commit(forget)


def event_body(event_type: str, data: Mapping[str, Any], *, at: Any = None) -> str:
    """The JSON body every delivery carries: `{"type", "timestamp", "data"}`."""
    timestamp = (at or timezone.now()).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, cls=DjangoJSONEncoder)


def emit_event(workspace: Workspace | int, event_type: str, data: Mapping[str, Any]) -> int:
    """Record a delivery of the event for each endpoint that hears it; they are sent after commit."""
    return emit_events(workspace, event_type, [data])


def emit_events(workspace: Workspace | int, event_type: str, items: Iterable[Mapping[str, Any]]) -> int:
    """`emit_event` for many objects at once (a period close, a batch of sales): one query for the
    endpoints and one insert, whatever the count. Returns how many deliveries were recorded."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    if event_type not in subscribed_event_types(workspace_id):
        return 0
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(
            workspace_id=workspace_id, enabled=True, events__contains=[event_type]
        ).values_list("id", flat=True)
    )
    if not endpoint_ids:
        return 0
    now = timezone.now()
    bodies = [event_body(event_type, data, at=now) for data in items]
    deliveries = [
        WebhookDelivery(
            workspace_id=workspace_id,
            endpoint_id=endpoint_id,
            event_type=event_type,
            body=body,
            next_attempt_at=now,
        )
        for body in bodies
        for endpoint_id in endpoint_ids
    ]
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
    delivery_ids = [delivery.id for delivery in deliveries]
    transaction.on_commit(lambda: send_soon(workspace_id, delivery_ids))
    return len(deliveries)


def send_soon(workspace_id: int, delivery_ids: list[str]) -> None:
    """Queue the first attempt of each delivery. A broker that is away loses nothing: the sweep
    (accounts.outbound.tasks.sweep_webhook_deliveries) sends what is due and was never queued."""
    from accounts.outbound.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook.apply_async(args=[workspace_id, delivery_id], queue=delivery_queue())
        except Exception:
            logger.warning("Could not queue webhook delivery %s; the sweep will send it", delivery_id)
            return


def delivery_queue() -> str:
    from django.conf import settings

    return str(settings.WEBHOOK_DELIVERY_QUEUE)
