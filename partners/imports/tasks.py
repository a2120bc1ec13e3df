"""The background import of partners (partners/imports/services.py does the work)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

MAX_RETRIES = 5


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, name="partners.imports.tasks.import_partners")
def import_partners(self: Any, *, workspace_id: int, import_uuid: str) -> int:
    """Import the rows not yet imported; safe to run twice (it carries on where the last run stopped)."""
    from partners.imports.services import fail_import, run_import

    try:
        return run_import(workspace_id=workspace_id, import_uuid=import_uuid).processed
    except Exception as exc:
        if self.request.retries >= MAX_RETRIES:
            fail_import(workspace_id=workspace_id, import_uuid=import_uuid, reason=f"The import stopped: {exc}")
            raise
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc
