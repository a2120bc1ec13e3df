"""Celery tasks of payout runs: thin, idempotent, by id."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Workspace
from reporting.payouts.runs.transfers import pay_stripe_items


@shared_task(acks_late=True)
def pay_payout_run(workspace_id: int, run_id: int) -> int:
    """Send a run's Stripe transfers; running it again (or after a killed worker) pays nothing twice."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    return pay_stripe_items(workspace=workspace, run_id=run_id) if workspace is not None else 0


@shared_task(acks_late=True)
def resume_payout_runs() -> int:
    """The beat's safety net: runs left paying by a killed worker (or a lost task) are sent on again."""
    from reporting.payouts.runs.services import stalled_runs

    runs = stalled_runs()
    for workspace_id, run_id in runs:
        pay_payout_run.delay(workspace_id, run_id)
    return len(runs)
