"""Periodic work of the referrals app; each task is thin, idempotent and safe to run twice."""

from __future__ import annotations

from celery import shared_task

from referrals import services
from referrals.clicks.flusher import flush_clicks


@shared_task(acks_late=True, ignore_result=True)
def flush_click_buffer() -> str:
    """Move buffered clicks into PostgreSQL (beat runs it every few seconds; overlapping runs step aside)."""
    # Bounded so a backlog is worked off across runs instead of pinning one worker.
    return flush_clicks(max_seconds=20).describe()


@shared_task(acks_late=True, ignore_result=True)
def expire_deal_registrations() -> int:
    """End the protection of approved deal registrations past their date that never converted."""
    return services.expire_deal_registrations()
