"""Celery tasks of the scheduled reports: thin, idempotent, by id (reporting/reports/scheduled.py does the work)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from reporting.reports import scheduled as scheduled_reports
from reporting.reports.scheduled import Period


def _period(start: str, end: str) -> Period:
    return Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


# The names predate the package (reporting/report_tasks.py): queued tasks and the beat schedule use them.
@shared_task(
    name="reporting.report_tasks.send_partner_report",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_partner_report(partner_id: int, period_start: str, period_end: str) -> bool:
    """One partner's performance report for one period; a report already sent is not sent again."""
    return scheduled_reports.send_partner_report(partner_id=partner_id, period=_period(period_start, period_end))


@shared_task(
    name="reporting.report_tasks.send_manager_digest",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_manager_digest(workspace_id: int, user_id: int, period_start: str, period_end: str) -> bool:
    """One owner's or manager's weekly digest; a digest already sent is not sent again."""
    return scheduled_reports.send_manager_digest(
        workspace_id=workspace_id, user_id=user_id, period=_period(period_start, period_end)
    )


@shared_task(name="reporting.report_tasks.send_scheduled_reports", acks_late=True)
def send_scheduled_reports() -> int:
    """Beat, hourly: every report whose period closed today (UTC). Hourly rather than once at midnight so a
    beat that was down at midnight still sends today; recipients already served are skipped."""
    return scheduled_reports.enqueue_due_reports(
        now=timezone.now(),
        enqueue_partner_report=lambda *args: send_partner_report.delay(*args),
        enqueue_manager_digest=lambda *args: send_manager_digest.delay(*args),
    )
