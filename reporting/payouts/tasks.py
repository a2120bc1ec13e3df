"""Celery tasks of payouts: thin, idempotent, by id."""

from __future__ import annotations

from celery import shared_task

from reporting.payouts.statements import send_statement_email, unsent_statement_ids


# The names predate the package (reporting/payout_tasks.py): queued tasks and the beat schedule use them.
@shared_task(
    name="reporting.payout_tasks.email_statement",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def email_statement(statement_id: int) -> bool:
    """Email one issued statement to its partner; a statement already emailed is not sent again."""
    return send_statement_email(statement_id=statement_id)


@shared_task(name="reporting.payout_tasks.email_unsent_statements", acks_late=True)
def email_unsent_statements() -> int:
    """The beat's safety net: statements whose email was lost (worker died, mail server down) are retried."""
    ids = unsent_statement_ids()
    for statement_id in ids:
        email_statement.delay(statement_id)
    return len(ids)
