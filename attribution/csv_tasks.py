"""The CSV import job. Kept apart from attribution/tasks.py so the integrations and the engine
change independently; attribution/integration_models.py imports it so every worker registers it."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def run_csv_import(csv_import_id: int) -> None:
    # Imported here: this module is loaded while Django is still loading models.
    from attribution.csv_import import run_import

    run_import(csv_import_id=csv_import_id)
