"""Celery tasks of partner notifications: thin, idempotent, by id."""

from __future__ import annotations

from celery import shared_task

from partners.notifications.sending import start_pass, workspaces_with_unsent


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notifications(workspace_id: int) -> int:
    """Send the workspace's unsent partner emails; a notification already sent is never sent again."""
    return start_pass(workspace_id=workspace_id)


@shared_task(acks_late=True)
def send_unsent_notifications() -> int:
    """The beat's safety net: notifications whose task was lost (broker down, worker killed) go out now."""
    workspace_ids = workspaces_with_unsent()
    for workspace_id in workspace_ids:
        send_notifications.delay(workspace_id)
    return len(workspace_ids)
