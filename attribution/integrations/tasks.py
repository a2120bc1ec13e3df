"""The CSV import job and its sweeper. Kept apart from attribution/tasks.py so the integrations and
the engine change independently; CELERY_IMPORTS registers it in every worker. The task names are
those of the module's first home (attribution/csv_tasks.py), which queued messages and beat still use."""

from __future__ import annotations

from celery import shared_task

MAX_RETRIES = 5


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, name="attribution.csv_tasks.run_csv_import")
def run_csv_import(self, csv_import_id: int) -> None:
    # Imported here, not at the top: csv_import imports this module to send the task.
    from attribution.integrations.csv_import import fail_import, run_import

    try:
        run_import(csv_import_id=csv_import_id)
    except Exception as exc:
        # acks_late redelivers only when a worker dies; an exception (database restart, say)
        # would otherwise leave the import "running" until the sweeper. Committed chunks are not redone.
        if self.request.retries >= MAX_RETRIES:
            fail_import(csv_import_id=csv_import_id, reason=f"The import stopped after {MAX_RETRIES} retries: {exc}")
            raise
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@shared_task(acks_late=True, name="attribution.csv_tasks.resume_stalled_csv_imports")
def resume_stalled_csv_imports(queue: str | None = None) -> int:
    """From beat: send again the imports whose worker was killed or whose task was lost."""
    from attribution.integrations.csv_import import resume_stalled_imports

    return resume_stalled_imports(queue=queue)
