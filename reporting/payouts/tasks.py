"""Celery tasks of payouts: thin, idempotent, by id."""

from __future__ import annotations

from celery import shared_task

from reporting import payouts


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_statement(statement_id: int) -> bool:
    """Email one issued statement to its partner; a statement already emailed is not sent again."""
    return payouts.send_statement_email(statement_id=statement_id)


@shared_task(acks_late=True)
def email_unsent_statements() -> int:
    """The beat's safety net: statements whose email was lost (worker died, mail server down) are retried."""
    ids = payouts.unsent_statement_ids()
    for statement_id in ids:
        email_statement.delay(statement_id)
    return len(ids)
