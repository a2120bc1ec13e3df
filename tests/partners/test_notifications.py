"""Partners are emailed about their referrals, commissions, statements and payouts: once each, in the
business's brand, only the kinds they want, each with a one-click unsubscribe that needs no login."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts.models import AuditLogEntry
from attribution.adjustments import add_manual_commission
from partners.notifications.models import Kind, Notification
from partners.notifications.preferences import choices_of, set_choices
from partners.notifications.sending import send_pending
from partners.notifications.tasks import send_notifications, send_unsent_notifications
from partners.services import ensure_default_program
from reporting.payouts.statements import close_payout_period, mark_statements_paid, send_statement_email
from reporting.reports.partner_digest import send_weekly_digests
from tests.attribution.conftest import click_of, lead, sale, send
from tests.attribution.factories import RewardRuleFactory
from tests.partners.factories import PartnerFactory
from tests.reporting.payout_helpers import earn

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _passes_without_delay(settings):
    # A pass called straight after the event sends at once (the delay and the burst wait are tested below).
    settings.PARTNER_EMAIL_DELAY_SECONDS = 0


@pytest.fixture
def anna(workspace):
    program = ensure_default_program(workspace=workspace)
    return PartnerFactory(workspace=workspace, program=program, name="Anna", email="anna@partner.test")


@pytest.fixture
def branded(workspace):
    workspace.name, workspace.brand_color, workspace.support_email = "Acme Cloud", "#0f766e", "partners@acme.test"
    workspace.save()
    return workspace


def emails_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def test_a_new_referral_is_emailed_once_even_when_the_task_runs_twice(branded, anna, celery_eager):
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id, customer_email="john@bigco.com"))

    assert send_notifications(branded.pk) == 1
    assert send_notifications(branded.pk) == 0

    (message,) = emails_to("anna@partner.test")
    assert "new referral" in message.subject.lower() and "Acme Cloud" in message.subject
    assert "j•••@bigco.com" in message.body and "john@bigco.com" not in message.body
    assert "your link" in message.body


def test_the_same_event_twice_records_one_notification(branded, anna):
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id))
    send(branded, lead("l1", "cus_1", click_id=click.click_id))

    assert Notification.objects.for_workspace(branded).filter(kind=Kind.NEW_REFERRAL).count() == 1


def test_a_new_commission_email_says_the_amount_and_why(branded, anna):
    RewardRuleFactory(workspace=branded, program=anna.program, sale_value=Decimal("20"))
    send(branded, sale("s1", "cus_1", amount="60.00", partner_id=anna.pk))

    send_pending(workspace_id=branded.pk)

    (message,) = [m for m in emails_to("anna@partner.test") if "commission" in m.subject.lower()]
    assert "12.00 USD" in message.body
    assert "A sale of 60.00 USD" in message.body
    html = message.alternatives[0].content
    assert "12.00 USD" in html and "#0f766e" in html and "Acme Cloud" in html


def test_a_burst_of_sales_is_one_email_listing_each_commission(branded, anna):
    RewardRuleFactory(workspace=branded, program=anna.program, sale_value=Decimal("20"))
    send(branded, *[sale(f"s{n}", f"cus_{n}", amount=f"{10 * n}.00", partner_id=anna.pk) for n in range(1, 4)])

    send_pending(workspace_id=branded.pk)

    (message,) = [m for m in emails_to("anna@partner.test") if "commission" in m.subject.lower()]
    assert message.subject.startswith("You earned 3 commissions")
    assert all(amount in message.body for amount in ("2.00 USD", "4.00 USD", "6.00 USD"))
    assert "And 2 more" in message.body
    assert not Notification.objects.filter(workspace=branded, kind=Kind.NEW_COMMISSION, sent_at__isnull=True).exists()
    send_pending(workspace_id=branded.pk)
    assert len([m for m in emails_to("anna@partner.test") if "commission" in m.subject.lower()]) == 1


def test_a_partner_is_told_of_a_large_burst_in_one_email_with_the_first_ten_listed_and_the_total(branded, anna):
    RewardRuleFactory(workspace=branded, program=anna.program, sale_value=Decimal("10"))
    send(branded, *[sale(f"s{n}", f"cus_{n}", amount="10.00", partner_id=anna.pk) for n in range(1, 121)])

    assert send_pending(workspace_id=branded.pk) == 2  # one email of the referrals, one of the commissions

    (referrals,) = [m for m in emails_to("anna@partner.test") if "referral" in m.subject.lower()]
    assert referrals.subject.startswith("You have 120 new referrals")
    assert "and 110 more, listed in your portal" in referrals.body
    (message,) = [m for m in emails_to("anna@partner.test") if "commission" in m.subject.lower()]
    assert message.subject.startswith("You earned 120 commissions")
    assert message.body.count("- 1.00 USD") == 9
    assert "And 119 more" in message.body and "and 110 more, listed in your portal" in message.body
    assert message.body.startswith("Hello Anna,\n\nYou earned 120 commissions, 120.00 USD in all.")
    assert "120.00 USD" in message.alternatives[0].content
    assert not Notification.objects.filter(workspace=branded, sent_at__isnull=True).exists()
    assert send_pending(workspace_id=branded.pk) == 0


def test_sets_waiting_together_are_told_in_one_email_with_their_sum(branded, anna):
    RewardRuleFactory(workspace=branded, program=anna.program, sale_value=Decimal("10"))
    send(branded, *[sale(f"a{n}", f"cus_a{n}", amount="10.00", partner_id=anna.pk) for n in range(3)])
    send(branded, sale("b0", "cus_b0", amount="25.00", partner_id=anna.pk))
    send(branded, *[sale(f"c{n}", f"cus_c{n}", amount="30.00", partner_id=anna.pk) for n in range(2)])

    send_pending(workspace_id=branded.pk)

    (message,) = [m for m in emails_to("anna@partner.test") if "commission" in m.subject.lower()]
    assert message.subject.startswith("You earned 6 commissions")
    assert "You earned 6 commissions, 11.50 USD in all." in message.body  # 3 × 1.00 + 2.50 + 2 × 3.00
    assert "And 5 more:" in message.body and "and 0 more" not in message.body


def test_a_burst_of_sets_schedules_one_email_pass_which_waits_for_the_burst_to_end(
    branded, anna, django_capture_on_commit_callbacks, settings
):
    from celery.signals import before_task_publish
    from django.core.cache import cache

    from config.celery import app
    from partners.notifications.sending import start_pass

    settings.PARTNER_EMAIL_DELAY_SECONDS = 60
    passes: list[dict] = []

    def scheduled(sender=None, headers=None, **_):
        if sender == send_notifications.name:
            passes.append(headers or {})

    def commit_sale(n: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            send(branded, sale(f"s{n}", f"cus_{n}", amount="10.00", partner_id=anna.pk))

    def commission_emails() -> list[str]:
        return [m.subject for m in emails_to("anna@partner.test") if "commission" in m.subject]

    RewardRuleFactory(workspace=branded, program=anna.program, sale_value=Decimal("10"))
    marks = [f"partner-emails:{what}:{branded.pk}" for what in ("pass", "last", "since")]
    cache.delete_many(marks)  # a run before this one may have used the same workspace id
    before_task_publish.connect(scheduled, weak=False)
    try:
        with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)) as clock:
            for n in range(3):  # three sets committed one after another
                commit_sale(n)
            assert len(passes) == 1 and passes[0]["eta"]  # sent a little later, not at once

            # The pass comes while sets are still a second apart: the burst goes on, it comes back later.
            clock.shift(1)
            assert start_pass(workspace_id=branded.pk) == 0
            assert len(passes) == 2 and commission_emails() == []

            clock.shift(40)  # half a minute of quiet
            assert (
                start_pass(workspace_id=branded.pk) == 2
            )  # one email of the three referrals, one of their commissions
            assert commission_emails() == ["You earned 3 commissions · Acme Cloud"]
            commit_sale(9)
            assert len(passes) == 3  # what came after the pass started gets a pass of its own

            # A burst that never pauses (a sale every 29 s from sale 9 on) is still told after ten minutes.
            for n in range(10, 40):
                clock.shift(29)
                commit_sale(n)
                if start_pass(workspace_id=branded.pk):
                    break
            assert n == 30  # 21 × 29 s: the first pass ten minutes after the burst began
            assert commission_emails()[-1].startswith("You earned 22 commissions")
    finally:
        before_task_publish.disconnect(scheduled)
        cache.delete_many(marks)
        app.control.purge()


def test_a_bonus_email_gives_the_managers_reason(branded, anna):
    add_manual_commission(
        workspace=branded, partner=anna, amount=Decimal("50"), currency="USD", description="Webinar co-host", by=None
    )
    send_pending(workspace_id=branded.pk)

    (message,) = emails_to("anna@partner.test")
    assert "50.00 USD" in message.body and "Bonus from Acme Cloud: Webinar co-host" in message.body


def test_a_partner_who_turned_a_kind_off_is_not_emailed_about_it(branded, anna):
    set_choices(partner=anna, choices={Kind.NEW_REFERRAL: False})
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id))

    send_pending(workspace_id=branded.pk)

    assert emails_to("anna@partner.test") == []
    assert not Notification.objects.for_workspace(branded).exists()


def test_turning_a_kind_off_after_the_event_still_stops_the_email(branded, anna):
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id))
    set_choices(partner=anna, choices={Kind.NEW_REFERRAL: False})

    send_pending(workspace_id=branded.pk)

    assert emails_to("anna@partner.test") == []
    assert Notification.objects.for_workspace(branded).get().skipped == "turned off by the partner"


def test_every_email_carries_the_one_click_unsubscribe_headers_and_replies_go_to_support(branded, anna):
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id))
    send_pending(workspace_id=branded.pk)

    (message,) = emails_to("anna@partner.test")
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body and url in message.alternatives[0].content
    assert message.reply_to == ["partners@acme.test"]
    assert message.from_email.startswith("Acme Cloud <")


def _unsubscribe_path(message) -> str:
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    return url.split("://", 1)[1].partition("/")[2].join(["/", ""])


def test_the_mail_clients_one_click_post_unsubscribes_without_a_login(branded, anna):
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id))
    send_pending(workspace_id=branded.pk)
    path = _unsubscribe_path(emails_to("anna@partner.test")[0])

    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert choices_of(anna)[Kind.NEW_REFERRAL] is False
    assert choices_of(anna)[Kind.NEW_COMMISSION] is True
    assert AuditLogEntry.objects.filter(workspace=branded, action="partner.email_choices_changed").exists()


def test_the_link_in_the_email_asks_before_it_unsubscribes(branded, anna):
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id))
    send_pending(workspace_id=branded.pk)
    path = _unsubscribe_path(emails_to("anna@partner.test")[0])

    page = Client().get(path)

    assert page.status_code == 200 and b"Stop emails about new referrals" in page.content
    assert b"Acme Cloud" in page.content
    assert choices_of(anna)[Kind.NEW_REFERRAL] is True
    Client().post(path)
    assert choices_of(anna)[Kind.NEW_REFERRAL] is False


def test_a_forged_unsubscribe_link_is_not_found(client):
    assert client.get("/notifications/unsubscribe/not-a-token/").status_code == 404
    assert client.post("/notifications/unsubscribe/WzEsMiwibmV3X3JlZmVycmFsIl0:forged/").status_code == 404


def test_a_statement_email_is_branded_and_skipped_for_a_partner_who_turned_statements_off(branded, anna):
    earn(anna, "42.00")
    earn_other = earn  # the second partner keeps the default and gets its statement
    ben = PartnerFactory(workspace=branded, program=anna.program, email="ben@partner.test")
    earn_other(ben, "30.00")
    set_choices(partner=anna, choices={Kind.STATEMENT_ISSUED: False})
    statements = close_payout_period(workspace=branded, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements

    for statement in statements:
        send_statement_email(statement_id=statement.pk)

    assert emails_to("anna@partner.test") == []
    (message,) = emails_to("ben@partner.test")
    assert "List-Unsubscribe" in message.extra_headers and "Acme Cloud" in message.alternatives[0].content
    assert message.attachments[0][0].endswith(".pdf")


def test_a_payout_batch_is_one_email_per_partner_sent_once(branded, anna, django_capture_on_commit_callbacks):
    ben = PartnerFactory(workspace=branded, program=anna.program, email="ben@partner.test")
    earn(anna, "42.00")
    earn(ben, "30.00")
    statements = close_payout_period(workspace=branded, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements
    ids = [s.pk for s in statements]

    with django_capture_on_commit_callbacks() as callbacks:
        mark_statements_paid(workspace=branded, statement_ids=ids, reference="WIRE-7")
        mark_statements_paid(workspace=branded, statement_ids=ids, reference="WIRE-7")
    assert len(callbacks) == 1  # one task for the batch, none for the repeat
    mail.outbox.clear()
    send_pending(workspace_id=branded.pk)
    send_pending(workspace_id=branded.pk)

    paid = [m for m in mail.outbox if "payout" in m.subject.lower()]
    assert sorted(m.to[0] for m in paid) == ["anna@partner.test", "ben@partner.test"]
    assert any("42.00 USD" in m.body and "WIRE-7" in m.body for m in paid)


def test_a_batch_of_events_records_one_notification_per_partner_and_enqueues_one_task(
    branded, anna, django_capture_on_commit_callbacks
):
    ben = PartnerFactory(workspace=branded, program=anna.program, email="ben@partner.test")
    events = [lead(f"l{i}", f"cus_{i}", click_id=click_of(anna if i % 4 else ben).click_id) for i in range(200)]
    with django_capture_on_commit_callbacks() as callbacks:
        send(branded, *events)

    rows = {n.partner_id: n for n in Notification.objects.for_workspace(branded).filter(kind=Kind.NEW_REFERRAL)}
    assert {pk: row.details["count"] for pk, row in rows.items()} == {anna.pk: 150, ben.pk: 50}
    assert len(rows[anna.pk].details["items"]) == 10  # the first ten are listed, the rest counted
    ours = [c for c in callbacks if getattr(c, "__qualname__", "") == "notify_partners.<locals>.<lambda>"]
    assert len(ours) == 1


def test_a_set_starting_with_an_object_already_told_is_still_recorded_and_recording_it_again_adds_nothing(
    branded, anna
):
    from partners.notifications.sending import NotifyItem, notify_partners

    def item(n: int) -> NotifyItem:
        return NotifyItem(partner_id=anna.pk, object_key=f"referral:{n}", details={"customer": f"c{n}"})

    assert notify_partners(workspace_id=branded.pk, kind=Kind.NEW_REFERRAL, items=[item(1)]) == 1
    assert notify_partners(workspace_id=branded.pk, kind=Kind.NEW_REFERRAL, items=[item(1), item(2)]) == 1
    assert notify_partners(workspace_id=branded.pk, kind=Kind.NEW_REFERRAL, items=[item(1), item(2)]) == 0
    assert Notification.objects.for_workspace(branded).count() == 2


def test_the_beats_sweeper_sends_what_a_lost_task_left_under_the_workspace_guard(branded, anna, celery_eager):
    click = click_of(anna)
    send(branded, lead("l1", "cus_1", click_id=click.click_id))  # its task never ran (no commit in a test)

    assert send_unsent_notifications.delay().get() == 1

    assert len(emails_to("anna@partner.test")) == 1
    assert send_unsent_notifications.delay().get() == 0


def test_the_weekly_summary_task_runs_under_the_workspace_guard(branded, anna, celery_eager):
    set_choices(partner=anna, choices={Kind.WEEKLY_DIGEST: True})

    with time_machine.travel(dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)):
        assert send_weekly_digests.delay().get() == 1
    assert send_notifications.delay(branded.pk).get() == 1
    assert "last 7 days" in emails_to("anna@partner.test")[0].body
