"""Celery's part of outbound webhooks: thin tasks over accounts/outbound/delivery.py."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from accounts.outbound import delivery
from accounts.outbound.events import delivery_queue

# A task queued further ahead than this could outlive the broker's visibility timeout (an hour) and
# run twice early; later retries are left to the sweep, which runs every minute.
_LONGEST_COUNTDOWN = dt.timedelta(minutes=50)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(workspace_id: int, delivery_id: str) -> None:
    """One attempt of one delivery; a delivery that is not due, or already sent, is left alone."""
    wait = delivery.attempt_delivery(workspace_id=workspace_id, delivery_id=delivery_id)
    if wait is not None and wait <= _LONGEST_COUNTDOWN:
        deliver_webhook.apply_async(
            args=[workspace_id, delivery_id], countdown=wait.total_seconds(), queue=delivery_queue()
        )


@shared_task(acks_late=True)
def sweep_webhook_deliveries() -> int:
    """Queue every delivery that is due and has no task: after a broker outage, a worker's death
    mid-send, or a retry hours away."""
    due = delivery.due_deliveries(now=timezone.now())
    for workspace_id, delivery_id in due:
        deliver_webhook.apply_async(args=[workspace_id, delivery_id], queue=delivery_queue())
    return len(due)
