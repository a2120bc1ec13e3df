from __future__ import annotations

import logging

from celery import shared_task

from reporting.privacy.retention import delete_expired_clicks_everywhere

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def delete_expired_clicks() -> dict[str, int]:
    """Daily: raw clicks past each workspace's retention, once their days are rolled up."""
    results = delete_expired_clicks_everywhere()
    if results:
        log.info("expired clicks deleted: %s", results)
    return results
