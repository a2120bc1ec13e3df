"""Scheduled reports: the partner performance report and the managers' weekly digest."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from partners.models import Program
from reporting import rollups
from reporting.reports.models import ReportDelivery
from reporting.reports.scheduled import (
    Period,
    due_digest_period,
    due_partner_periods,
    enqueue_due_reports,
    send_manager_digest,
    send_partner_report,
)
from tests.partners.factories import PartnerFactory, ProgramFactory
from tests.reporting.payout_helpers import earn

MONDAY = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)  # also the 1st of the month: weekly and monthly are due
MAY = Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31))
OCTOBER = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))


@pytest.fixture
def program(workspace):
    return ProgramFactory(workspace=workspace, currency="USD", report_frequency=Program.ReportFrequency.MONTHLY)


@pytest.fixture
def partner(workspace, program):
    return PartnerFactory(workspace=workspace, program=program, name="Alpha Agency", email="alpha@agency.example")


def _run_now(now: dt.datetime) -> int:
    """The beat task's service with the tasks run inline, as an eager worker would."""
    return enqueue_due_reports(
        now=now,
        enqueue_partner_report=lambda pid, s, e: send_partner_report(
            partner_id=pid, period=Period(dt.date.fromisoformat(s), dt.date.fromisoformat(e))
        ),
        enqueue_manager_digest=lambda wid, uid, s, e: send_manager_digest(
            workspace_id=wid, user_id=uid, period=Period(dt.date.fromisoformat(s), dt.date.fromisoformat(e))
        ),
    )


def _partner_reports() -> list:
    return [m for m in mail.outbox if m.attachments]


def test_weekly_reports_are_due_on_mondays_for_the_previous_iso_week():
    due = due_partner_periods(dt.date(2026, 11, 9))

    assert due == {Program.ReportFrequency.WEEKLY: Period(dt.date(2026, 11, 2), dt.date(2026, 11, 8))}
    assert due_digest_period(dt.date(2026, 11, 9)) == Period(dt.date(2026, 11, 2), dt.date(2026, 11, 8))


def test_monthly_reports_are_due_on_the_first_for_the_previous_month():
    assert due_partner_periods(dt.date(2026, 12, 1)) == {
        Program.ReportFrequency.MONTHLY: Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    }


def test_nothing_is_due_on_other_days():
    assert due_partner_periods(dt.date(2026, 11, 4)) == {} and due_digest_period(dt.date(2026, 11, 4)) is None


def test_the_partner_report_has_html_text_and_a_pdf_with_the_partners_own_numbers(workspace, partner, program):
    earn(partner, "42.00", on="2026-10-15", sale="210.00")
    other = PartnerFactory(workspace=workspace, program=program)
    earn(other, "999.00", on="2026-10-16", sale="4995.00")
    rollups.rebuild(workspace_id=workspace.pk, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 31))

    assert send_partner_report(partner_id=partner.pk, period=OCTOBER) is True

    (message,) = mail.outbox
    assert message.to == ["alpha@agency.example"]
    assert "210.00 USD" in message.body and "42.00 USD" in message.body and "999" not in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "42.00" in html
    ((name, content, attachment_type),) = message.attachments
    assert attachment_type == "application/pdf" and name.endswith(".pdf") and content.startswith(b"%PDF")


def test_a_partner_who_opted_out_gets_no_report(workspace, partner):
    partner.receives_reports = False
    partner.save(update_fields=["receives_reports"])

    _run_now(MONDAY)

    assert _partner_reports() == []


def test_a_program_with_reports_off_sends_none(workspace, partner, program):
    program.report_frequency = Program.ReportFrequency.OFF
    program.save(update_fields=["report_frequency"])

    _run_now(MONDAY)

    assert _partner_reports() == []


def test_running_the_schedule_twice_sends_each_report_once(workspace, partner):
    _run_now(MONDAY)
    _run_now(MONDAY + dt.timedelta(hours=1))
    send_partner_report(partner_id=partner.pk, period=MAY)

    assert len(_partner_reports()) == 1
    assert ReportDelivery.objects.get(partner=partner).sent_at is not None


def test_the_digest_goes_to_owners_and_managers_only(workspace, owner, manager, finance, viewer):
    _run_now(MONDAY)

    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, manager.email])
    assert all("weekly digest" in m.subject and m.alternatives[0][1] == "text/html" for m in mail.outbox)


def test_the_digest_counts_what_waits_for_review(workspace, owner):
    PartnerFactory(workspace=workspace, status="pending")

    send_manager_digest(
        workspace_id=workspace.pk, user_id=owner.pk, period=Period(dt.date(2026, 5, 25), dt.date(2026, 5, 31))
    )

    assert "Partner applications to review: 1" in mail.outbox[0].body


def test_a_scheduled_report_run_by_the_real_beat_schedule_sends_its_email_with_the_pdf(workspace, partner, monkeypatch):
    entry = settings.CELERY_BEAT_SCHEDULE["send-scheduled-reports"]
    # What a worker does at start-up: import CELERY_IMPORTS and the autodiscovered task modules.
    current_app.loader.import_default_modules()
    monkeypatch.setattr(timezone, "now", lambda: MONDAY)

    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        current_app.conf.task_always_eager = True
        try:
            current_app.tasks[entry["task"]].apply()
        finally:
            current_app.conf.task_always_eager = False

    (report,) = _partner_reports()
    assert report.to == ["alpha@agency.example"]
    assert report.attachments[0][2] == "application/pdf" and report.attachments[0][1].startswith(b"%PDF")


def test_a_partner_turns_reports_off_on_the_portal_profile(partner_client, partner_user, workspace):
    response = partner_client.post(f"/portal/{workspace.slug}/profile/", {"country": "DE"})

    assert response.status_code == 302
    assert partner_user.partner_logins.get().partner.receives_reports is False


def test_a_manager_sets_a_programs_report_frequency(manager_client, workspace, program):
    manager_client.post(
        f"/w/{workspace.slug}/programs/{program.pk}/edit/",
        {
            "name": program.name,
            "currency": "USD",
            "attribution_window_days": 90,
            "attribution_model": "last_click",
            "hold_days": 30,
            "minimum_payout": "0",
            "deal_protection_days": 90,
            "terms": "",
            "report_frequency": "weekly",
        },
    )

    program.refresh_from_db()
    assert program.report_frequency == Program.ReportFrequency.WEEKLY


def test_a_manager_turns_a_partners_reports_off_on_the_edit_form(manager_client, workspace, partner, program):
    response = manager_client.post(
        f"/w/{workspace.slug}/partners/{partner.pk}/edit/",
        {
            "name": partner.name,
            "email": partner.email,
            "program": program.pk,
        },
    )

    partner.refresh_from_db()
    assert response.status_code == 302 and partner.receives_reports is False
