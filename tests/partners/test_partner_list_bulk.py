"""Bulk changes from the partner list: move to a group, suspend, reactivate, message; ticked or every match."""

from __future__ import annotations

import pytest

from accounts.models import AuditLogEntry
from partners.models import Partner
from tests.partners.factories import PartnerFactory, PartnerGroupFactory

pytestmark = pytest.mark.django_db


def _bulk(client, workspace, **data):
    return client.post(f"/w/{workspace.slug}/partners/bulk/", data)


def _status(*partners) -> list[str]:
    return [Partner.objects.get(pk=p.pk).status for p in partners]


def test_a_manager_suspends_the_ticked_partners(manager_client, workspace, program):
    a, b, untouched = PartnerFactory.create_batch(3, workspace=workspace, program=program)

    response = _bulk(manager_client, workspace, action="suspend", ids=[a.pk, b.pk])

    assert response.status_code == 302
    assert _status(a, b, untouched) == ["suspended", "suspended", "active"]
    assert AuditLogEntry.objects.filter(action="partner.suspended").count() == 2


def test_reactivating_skips_partners_that_are_not_suspended_and_says_so(manager_client, workspace, program):
    suspended = PartnerFactory(workspace=workspace, program=program, status="suspended")
    active = PartnerFactory(workspace=workspace, program=program)

    response = _bulk(manager_client, workspace, action="reactivate", ids=[suspended.pk, active.pk])

    assert _status(suspended, active) == ["active", "active"]
    text = manager_client.get(response.url).content.decode()
    assert "1 partner reactivated. 1 skipped" in text


def test_a_manager_moves_the_ticked_partners_to_a_group(manager_client, workspace, program):
    group = PartnerGroupFactory(workspace=workspace, name="Gold")
    a, b = PartnerFactory.create_batch(2, workspace=workspace, program=program)

    _bulk(manager_client, workspace, action="move", ids=[a.pk, b.pk], group=group.pk)

    assert set(Partner.objects.filter(group=group).values_list("pk", flat=True)) == {a.pk, b.pk}


def test_moving_twice_audits_the_move_once(manager_client, workspace, program):
    group = PartnerGroupFactory(workspace=workspace)
    a = PartnerFactory(workspace=workspace, program=program)

    _bulk(manager_client, workspace, action="move", ids=[a.pk], group=group.pk)
    _bulk(manager_client, workspace, action="move", ids=[a.pk], group=group.pk)

    assert AuditLogEntry.objects.filter(target_id=str(a.pk), action="partner.updated").count() == 1


def test_moving_with_no_group_takes_them_out_of_their_group(manager_client, workspace, program):
    a = PartnerFactory(workspace=workspace, program=program, group=PartnerGroupFactory(workspace=workspace))

    _bulk(manager_client, workspace, action="move", ids=[a.pk], group="")

    assert Partner.objects.get(pk=a.pk).group is None


def test_select_all_matching_changes_every_page_of_the_filtered_list(manager_client, workspace, program):
    invited = PartnerFactory.create_batch(30, workspace=workspace, program=program, status="invited")
    pending = PartnerFactory(workspace=workspace, program=program, status="pending")

    _bulk(manager_client, workspace, action="suspend", scope="matching", back="status=invited")

    assert set(_status(*invited)) == {"suspended"}
    assert _status(pending) == ["pending"]


def test_the_select_all_box_appears_when_the_list_has_several_pages(manager_client, workspace, program):
    PartnerFactory.create_batch(30, workspace=workspace, program=program)

    assert (
        b"Select all 30 matching partners, on every page"
        in manager_client.get(f"/w/{workspace.slug}/partners/").content
    )


def test_a_message_is_emailed_to_each_ticked_partner_and_noted_in_its_history(
    manager_client, workspace, program, mailoutbox, django_capture_on_commit_callbacks
):
    a, b = PartnerFactory.create_batch(2, workspace=workspace, program=program)
    rejected = PartnerFactory(workspace=workspace, program=program, status="rejected")

    with django_capture_on_commit_callbacks(execute=True):
        _bulk(
            manager_client,
            workspace,
            action="message",
            ids=[a.pk, b.pk, rejected.pk],
            subject="New spring campaign",
            body="Banners are ready in the portal.",
        )

    assert sorted(m.to[0] for m in mailoutbox) == sorted([a.email, b.email])
    assert mailoutbox[0].subject == "New spring campaign"
    assert "Banners are ready in the portal." in mailoutbox[0].body
    assert AuditLogEntry.objects.filter(action="partner.messaged").count() == 2


def test_a_message_without_a_subject_sends_nothing_and_says_why(manager_client, workspace, program, mailoutbox):
    a = PartnerFactory(workspace=workspace, program=program)

    response = _bulk(manager_client, workspace, action="message", ids=[a.pk], subject="", body="Hello")

    assert mailoutbox == []
    assert "Write a subject." in manager_client.get(response.url).content.decode()


def test_nothing_ticked_is_a_clear_message(manager_client, workspace, partner):
    response = _bulk(manager_client, workspace, action="suspend")

    assert "Tick the partners first." in manager_client.get(response.url).content.decode()


def test_the_bulk_form_returns_to_the_filtered_list(manager_client, workspace, partner):
    response = _bulk(manager_client, workspace, action="suspend", ids=[partner.pk], back="status=active&sort=-due")

    assert response.url == f"/w/{workspace.slug}/partners/?status=active&sort=-due"


def test_another_workspaces_partners_are_never_changed(manager_client, workspace, other_workspace, partner):
    foreign = PartnerFactory(workspace=other_workspace)

    _bulk(manager_client, workspace, action="suspend", ids=[foreign.pk, partner.pk])

    assert _status(foreign, partner) == ["active", "suspended"]


def test_viewers_and_finance_cannot_make_bulk_changes(viewer_client, finance_client, workspace, partner):
    assert _bulk(viewer_client, workspace, action="suspend", ids=[partner.pk]).status_code == 403
    assert _bulk(finance_client, workspace, action="suspend", ids=[partner.pk]).status_code == 403
    assert _status(partner) == ["active"]


def test_viewers_see_no_checkboxes(viewer_client, workspace, partner):
    assert b'name="ids"' not in viewer_client.get(f"/w/{workspace.slug}/partners/").content


def test_an_outsider_gets_404_on_bulk_changes(outsider_client, workspace, partner):
    assert _bulk(outsider_client, workspace, action="suspend", ids=[partner.pk]).status_code == 404
