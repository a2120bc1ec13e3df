"""Sending a delivery: one attempt at a time, retried on Svix's schedule, at least once.

An attempt first takes a short lease on the row (so two workers never send it at once), sends outside
any transaction, then records the answer. A worker killed mid-send leaves the lease to expire; the sweep
then sends again with the same `webhook-id`, so the receiver can tell it is the same message.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.outbound import transport
from accounts.outbound.guard import UnsafeDestination, check_destination
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from accounts.outbound.signing import signed_headers
from accounts.services import record_audit

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


def retry_delays() -> list[dt.timedelta]:
    """After the first try: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (WEBHOOK_RETRY_DELAYS, seconds)."""
    return [dt.timedelta(seconds=float(seconds)) for seconds in settings.WEBHOOK_RETRY_DELAYS]


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 30)


def claim(*, workspace_id: int, delivery_id: str, now: dt.datetime) -> WebhookDelivery | None:
    """Take the delivery for one attempt if it is due and nobody else holds it; count the attempt."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(workspace_id=workspace_id, id=delivery_id, status=Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.leased_until = now + _lease()
        delivery.last_attempt_at = now
        delivery.save(update_fields=["attempts", "leased_until", "last_attempt_at"])
    return delivery


def attempt_delivery(*, workspace_id: int, delivery_id: str, now: dt.datetime | None = None) -> dt.timedelta | None:
    """Send the delivery if it is due. Returns the wait before its next attempt when it must retry."""
    now = now or timezone.now()
    delivery = claim(workspace_id=workspace_id, delivery_id=delivery_id, now=now)
    if delivery is None:
        return None
    endpoint = WebhookEndpoint.objects.filter(workspace_id=workspace_id, id=delivery.endpoint_id).first()
    if endpoint is None or not endpoint.enabled:
        _finish(delivery, status=Status.FAILED, answer=transport.Answer(None, "", "The endpoint is disabled."))
        return None
    answer = send(endpoint, delivery)
    return record_answer(delivery, endpoint, answer, now=timezone.now())


def send(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> transport.Answer:
    try:
        destination = check_destination(endpoint.url)
    except UnsafeDestination as exc:
        return transport.Answer(status=None, body="", error=str(exc)[:300])
    headers = signed_headers(
        secret=endpoint.signing_secret, message_id=delivery.id, body=delivery.body, at=timezone.now()
    )
    return transport.post(
        destination, body=delivery.body.encode(), headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
    )


def record_answer(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, answer: transport.Answer, *, now: dt.datetime
) -> dt.timedelta | None:
    if answer.status is not None and 200 <= answer.status < 300:
        _finish(delivery, status=Status.SUCCEEDED, answer=answer)
        return None
    if answer.status == 410:
        _finish(delivery, status=Status.FAILED, answer=answer)
        disable_gone_endpoint(endpoint, now=now)
        return None
    delays = retry_delays()
    if delivery.attempts > len(delays):
        _finish(delivery, status=Status.FAILED, answer=answer)
        return None
    delay = delays[delivery.attempts - 1]
    _finish(delivery, status=Status.PENDING, answer=answer, next_attempt_at=now + delay)
    return delay


def _finish(
    delivery: WebhookDelivery,
    *,
    status: str,
    answer: transport.Answer,
    next_attempt_at: dt.datetime | None = None,
) -> None:
    delivery.status = status
    delivery.response_status = answer.status
    delivery.response_body = answer.body
    delivery.last_error = answer.error
    delivery.next_attempt_at = next_attempt_at
    delivery.leased_until = None
    delivery.save(
        update_fields=["status", "response_status", "response_body", "last_error", "next_attempt_at", "leased_until"]
    )


def disable_gone_endpoint(endpoint: WebhookEndpoint, *, now: dt.datetime) -> None:
    """An endpoint that answers 410 Gone says it wants nothing more: stop sending, and say why."""
    from accounts.outbound.events import forget_subscriptions

    reason = f"Answered 410 Gone on {now:%d %b %Y %H:%M} UTC; turn it on again when it is back."
    with transaction.atomic():
        updated = WebhookEndpoint.objects.filter(
            workspace_id=endpoint.workspace_id, id=endpoint.id, enabled=True
        ).update(enabled=False, disabled_reason=reason, updated_at=now)
        if updated:
            record_audit(
                workspace=endpoint.workspace,
                actor=None,
                actor_label="Tandem",
                action="webhook_endpoint.disabled",
                target=endpoint,
                changes={"enabled": [True, False], "reason": reason},
            )
            forget_subscriptions(endpoint.workspace_id)


def due_deliveries(*, now: dt.datetime, limit: int = 1000) -> list[tuple[int, str]]:
    """Pending deliveries whose time has come and that no worker holds: never queued (broker away),
    queued for later than the broker keeps a task, or left by a worker that died mid-send. A grace
    period leaves just-queued ones to their own task."""
    grace = now - dt.timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    rows = (
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=grace)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("workspace_id", "id")[:limit]
    )
    return list(rows)


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (same body and webhook-id), with a fresh retry schedule."""
    from accounts.outbound.events import send_soon

    now = timezone.now()
    WebhookDelivery.objects.filter(workspace_id=delivery.workspace_id, id=delivery.id).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, leased_until=None
    )
    transaction.on_commit(lambda: send_soon(delivery.workspace_id, [delivery.id]))
    delivery.refresh_from_db()
    return delivery
