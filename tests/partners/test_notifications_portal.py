"""Partners choose their emails on the portal, read announcements on their home page, and may ask for
a weekly summary of the last 7 days."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from accounts.models import AuditLogEntry
from partners.notifications.announcements import announcements_for, publish_announcement
from partners.notifications.models import Kind, Notification
from partners.notifications.preferences import choices_of, set_choices
from partners.notifications.sending import send_pending
from reporting.reports.partner_digest import queue_weekly_digests
from tests.conftest import client_for
from tests.partners.factories import PartnerFactory, PartnerGroupFactory, PartnerUserFactory
from tests.referrals.factories import ClickFactory, LinkFactory, ReferralFactory
from tests.reporting.payout_helpers import earn

pytestmark = pytest.mark.django_db
MONDAY = dt.datetime(2026, 12, 7, 8, tzinfo=dt.UTC)


@pytest.fixture
def partner(partner_user):
    return partner_user.partner_logins.get().partner


def test_the_profile_page_lists_each_kind_of_email_with_the_partners_choice(partner_client, partner):
    set_choices(partner=partner, choices={Kind.PAYOUT_MADE: False})

    page = partner_client.get(f"/portal/{partner.workspace.slug}/profile/")

    html = page.content.decode()
    assert "Notifications" in html and "A weekly summary" in html and "last 7 days" in html
    assert "checked" not in _checkbox(html, "payout_made") and "checked" in _checkbox(html, "new_referral")


def _checkbox(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found, name
    return found.group()


def test_a_partner_saves_its_email_choices_and_the_change_is_audited(partner_client, partner):
    response = partner_client.post(
        f"/portal/{partner.workspace.slug}/profile/emails/", {"new_commission": "on", "weekly_digest": "on"}
    )

    assert response.status_code == 302
    assert choices_of(partner) == {
        Kind.NEW_REFERRAL: False,
        Kind.NEW_COMMISSION: True,
        Kind.STATEMENT_ISSUED: False,
        Kind.PAYOUT_MADE: False,
        Kind.ANNOUNCEMENT: False,
        Kind.WEEKLY_DIGEST: True,
    }
    assert AuditLogEntry.objects.filter(action="partner.email_choices_changed", target_id=str(partner.pk)).exists()


def test_a_manager_announces_to_one_group_only(manager_client, workspace):
    gold = PartnerGroupFactory(workspace=workspace, name="Gold")
    in_gold = PartnerFactory(workspace=workspace, group=gold, email="gold@p.test")
    other = PartnerFactory(workspace=workspace, program=in_gold.program, email="other@p.test")

    response = manager_client.post(
        f"/w/{workspace.slug}/announcements/",
        {"title": "Double commission in May", "body": "All **May** sales earn double.", "group": gold.pk},
    )

    assert response.status_code == 302
    assert [a.title for a in announcements_for(in_gold)] == ["Double commission in May"]
    assert announcements_for(other) == []
    assert AuditLogEntry.objects.filter(workspace=workspace, action="announcement.published").exists()
    send_pending(workspace_id=workspace.pk)
    assert [m.to for m in mail.outbox] == [["gold@p.test"]]
    assert "<strong>May</strong>" in mail.outbox[0].alternatives[0].content


def test_the_portal_home_shows_announcements_newest_first_and_a_partner_can_close_one(partner_client, partner, manager):
    workspace = partner.workspace
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)):
        publish_announcement(workspace=workspace, title="Older news", body="First.", group=None, by=manager)
    newer = publish_announcement(workspace=workspace, title="Newer news", body="Second.", group=None, by=manager)

    html = partner_client.get(f"/portal/{workspace.slug}/").content.decode()
    assert html.index("Newer news") < html.index("Older news")

    partner_client.post(f"/portal/{workspace.slug}/announcements/{newer.uuid}/dismiss/")
    html = partner_client.get(f"/portal/{workspace.slug}/").content.decode()
    assert "Newer news" not in html and "Older news" in html


def test_an_announcement_of_another_workspace_cannot_be_closed(partner_client, partner, other_workspace):
    foreign = publish_announcement(workspace=other_workspace, title="Theirs", body="Not yours.", group=None, by=None)

    response = partner_client.post(f"/portal/{partner.workspace.slug}/announcements/{foreign.uuid}/dismiss/")

    assert response.status_code == 404


def test_announcement_text_is_escaped_and_only_bold_and_links_become_html(manager):
    from partners.notifications.announcements import render_body

    html = render_body("<script>x</script>\n\n**Big** news at https://acme.test/launch")

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>Big</strong>" in html and 'href="https://acme.test/launch"' in html


def test_partners_who_do_not_want_announcements_see_them_on_the_portal_but_get_no_email(workspace):
    partner = PartnerFactory(workspace=workspace, email="quiet@p.test")
    set_choices(partner=partner, choices={Kind.ANNOUNCEMENT: False})

    publish_announcement(workspace=workspace, title="Hello", body="News.", group=None, by=None)
    send_pending(workspace_id=workspace.pk)

    assert [a.title for a in announcements_for(partner)] == ["Hello"]
    assert mail.outbox == []


def test_staff_other_than_managers_cannot_announce(viewer_client, finance_client, workspace):
    assert viewer_client.get(f"/w/{workspace.slug}/announcements/").status_code == 403
    assert finance_client.post(f"/w/{workspace.slug}/announcements/", {"title": "x", "body": "y"}).status_code == 403


def test_the_weekly_summary_says_the_last_7_days_figures_and_is_sent_once(workspace):
    partner = PartnerFactory(workspace=workspace, email="weekly@p.test")
    set_choices(partner=partner, choices={Kind.WEEKLY_DIGEST: True})
    link = LinkFactory(workspace=workspace, partner=partner, program=partner.program)
    for day in (1, 2, 6):  # Tue 1, Wed 2, Sun 6 Dec: inside the last 7 days
        ClickFactory(link=link, workspace=workspace, partner=partner, clicked_at=MONDAY - dt.timedelta(days=day))
    ClickFactory(link=link, workspace=workspace, partner=partner, clicked_at=MONDAY - dt.timedelta(days=9))
    with time_machine.travel(MONDAY - dt.timedelta(days=2)):
        ReferralFactory(workspace=workspace, partner=partner, program=partner.program)
    earn(partner, "12.50", status="pending")
    from attribution.models import Commission

    Commission.objects.filter(partner=partner).update(created_at=MONDAY - dt.timedelta(days=3))

    assert queue_weekly_digests(now=MONDAY) == 1
    assert queue_weekly_digests(now=MONDAY + dt.timedelta(hours=1)) == 0
    send_pending(workspace_id=workspace.pk)

    (message,) = mail.outbox
    assert "last 7 days" in message.subject.lower() and "last 7 days" in message.body
    assert "Clicks on your links: 3" in message.body
    assert "New referrals: 1" in message.body
    assert "12.50 USD" in message.body
    assert "30 Nov 2026 to 6 Dec 2026" in message.body


def test_no_summary_on_other_days_nor_for_partners_who_did_not_ask(workspace):
    asked = PartnerFactory(workspace=workspace)
    PartnerFactory(workspace=workspace, program=asked.program)
    set_choices(partner=asked, choices={Kind.WEEKLY_DIGEST: True})

    assert queue_weekly_digests(now=MONDAY + dt.timedelta(days=1)) == 0
    assert queue_weekly_digests(now=MONDAY) == 1
    assert Notification.objects.filter(kind=Kind.WEEKLY_DIGEST).count() == 1


def test_outsiders_cannot_see_the_announcements_page(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/announcements/").status_code == 404


def test_a_partner_of_a_group_sees_the_announcements_for_all_too(workspace):
    gold = PartnerGroupFactory(workspace=workspace, name="Gold")
    partner = PartnerFactory(workspace=workspace, group=gold)
    publish_announcement(workspace=workspace, title="For all", body="x", group=None, by=None)
    publish_announcement(workspace=workspace, title="For gold", body="y", group=gold, by=None)

    assert [a.title for a in announcements_for(partner)] == ["For gold", "For all"]


def test_a_partner_login_sees_its_choices_only(workspace):
    one = PartnerUserFactory(partner__workspace=workspace)
    two = PartnerUserFactory(partner__workspace=workspace, partner__program=one.partner.program)
    set_choices(partner=one.partner, choices={Kind.NEW_REFERRAL: False})

    client_for(two.user).post(f"/portal/{workspace.slug}/profile/emails/", {"new_referral": "on"})

    assert choices_of(one.partner)[Kind.NEW_REFERRAL] is False
    assert choices_of(two.partner)[Kind.NEW_REFERRAL] is True
