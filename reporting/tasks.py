from __future__ import annotations

from celery import shared_task

from reporting import exports, rollups
from reporting.rollups.models import ExportJob


@shared_task(acks_late=True)
def refresh_recent_rollups() -> int:
    """Beat, every 15 seconds: the rollups of every recently touched day, then the dashboard's preset
    periods of the workspaces that changed, computed ahead of the next visitor."""
    from accounts.models import Workspace
    from reporting.reports.build import warm_dashboard

    done = rollups.refresh_recent()
    for workspace in Workspace.objects.filter(pk__in=list(done)):
        warm_dashboard(workspace)
    return sum(done.values())


@shared_task(acks_late=True)
def refresh_rollup_days(workspace_id: int, dates: list[str]) -> None:
    """For the apps upstream that prefer a task to a call: ISO dates of the days they wrote."""
    import datetime as dt

    rollups.refresh_days(workspace_id=workspace_id, dates=[dt.date.fromisoformat(d) for d in dates])


@shared_task(acks_late=True)
def run_export_job(job_id: int) -> None:
    jobs = ExportJob.objects.across_workspaces("the task names its export by id")
    job = jobs.select_related("workspace").filter(pk=job_id).first()
    if job is None:
        return
    try:
        exports.run_export(job)
    except Exception as error:  # the page must say it failed rather than spin forever
        jobs.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=str(error)[:500])
        raise
