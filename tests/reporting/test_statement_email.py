from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from reporting.payouts.models import Statement
from reporting.payouts.statements import close_payout_period, send_statement_email
from tests.partners.factories import PartnerFactory
from tests.reporting.payout_helpers import earn


@pytest.fixture
def partner(workspace):
    return PartnerFactory(workspace=workspace, name="Alpha Agency", email="alpha@agency.example")


def test_closing_a_period_emails_each_partner_its_statement_with_the_pdf(
    workspace, partner, celery_eager, django_capture_on_commit_callbacks
):
    earn(partner, "42.00")

    with django_capture_on_commit_callbacks(execute=True):
        statement = close_payout_period(
            workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24)
        ).statements[0]

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alpha@agency.example"] and statement.number in message.subject
    assert "42.00 USD" in message.body
    assert message.alternatives[0].mimetype == "text/html"
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == (f"{statement.number}.pdf", "application/pdf") and content.startswith(b"%PDF")


def test_a_statement_is_emailed_once_and_records_when(workspace, partner):
    earn(partner, "42.00")
    statement = close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements[0]

    assert send_statement_email(statement_id=statement.pk) is True
    assert send_statement_email(statement_id=statement.pk) is False

    assert len(mail.outbox) == 1
    assert Statement.objects.get(pk=statement.pk).emailed_at is not None
