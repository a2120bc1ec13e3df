from __future__ import annotations

import pytest

from accounts.models import AuditLogEntry
from partners.models import Partner
from tests.partners.factories import PartnerFactory, PartnerGroupFactory


def _url(workspace, partner, action: str) -> str:
    return f"/w/{workspace.slug}/partners/{partner.pk}/{action}/"


def test_suspending_stops_the_partner_earning(manager_client, workspace, partner):
    response = manager_client.post(_url(workspace, partner, "suspend"))

    partner.refresh_from_db()
    assert response.status_code == 302
    assert partner.status == Partner.Status.SUSPENDED
    assert partner.earns is False


def test_suspending_is_recorded_in_the_audit_log(manager_client, manager, workspace, partner):
    manager_client.post(_url(workspace, partner, "suspend"))

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="partner.suspended")
    assert (entry.actor, entry.changes) == (manager, {"status": ["active", "suspended"]})


def test_reactivating_lets_a_suspended_partner_earn_again(manager_client, workspace, program):
    partner = PartnerFactory(workspace=workspace, program=program, status=Partner.Status.SUSPENDED)

    manager_client.post(_url(workspace, partner, "reactivate"))

    partner.refresh_from_db()
    assert partner.earns is True
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="partner.reactivated").exists()


def test_reactivating_an_active_partner_says_why_it_cannot(manager_client, workspace, partner):
    response = manager_client.post(_url(workspace, partner, "reactivate"), follow=True)

    assert b"cannot be reactivated" in response.content


def test_a_manager_moves_a_partner_to_another_group(manager_client, workspace, partner):
    group = PartnerGroupFactory(workspace=workspace, name="Agencies")

    manager_client.post(_url(workspace, partner, "group"), {"group": group.pk})

    partner.refresh_from_db()
    assert partner.group == group


def test_another_workspaces_group_cannot_be_given_to_a_partner(manager_client, workspace, other_workspace, partner):
    foreign = PartnerGroupFactory(workspace=other_workspace)

    manager_client.post(_url(workspace, partner, "group"), {"group": foreign.pk})

    partner.refresh_from_db()
    assert partner.group is None


def test_a_manager_saves_notes_on_a_partner(manager_client, workspace, partner):
    manager_client.post(_url(workspace, partner, "notes"), {"notes": "Met at SaaStr."})

    partner.refresh_from_db()
    assert partner.notes == "Met at SaaStr."


def test_an_owner_edits_a_partners_profile(owner_client, workspace, program, partner):
    response = owner_client.post(
        _url(workspace, partner, "edit"),
        {
            "name": "Brightside",
            "email": "new@brightside.test",
            "company": "Brightside Media Ltd",
            "country": "GB",
            "program": program.pk,
            "group": "",
            "external_id": "crm-1",
            "notes": "",
        },
    )

    partner.refresh_from_db()
    assert response.status_code == 302
    assert (partner.name, partner.email, partner.country, partner.external_id) == (
        "Brightside",
        "new@brightside.test",
        "GB",
        "crm-1",
    )


def test_editing_to_an_email_already_in_the_program_shows_the_error_by_the_field(
    manager_client, workspace, program, partner
):
    PartnerFactory(workspace=workspace, program=program, email="taken@x.test")

    response = manager_client.post(
        _url(workspace, partner, "edit"),
        {
            "name": "Brightside",
            "email": "taken@x.test",
            "program": program.pk,
        },
    )

    assert response.status_code == 200
    assert "already a partner" in str(response.context["form"].errors["email"])


def test_the_audit_log_hides_payout_details(manager_client, workspace, program, partner):
    manager_client.post(
        _url(workspace, partner, "edit"),
        {
            "name": partner.name,
            "email": partner.email,
            "program": program.pk,
            "payout_details": "IBAN DE00 1234",
        },
    )

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="partner.updated")
    assert "IBAN" not in str(entry.changes)


@pytest.mark.parametrize("action", ["suspend", "reactivate", "approve", "reject", "group", "notes", "invitation"])
def test_a_viewer_cannot_change_a_partner(viewer_client, workspace, partner, action):
    assert viewer_client.post(_url(workspace, partner, action)).status_code == 403


def test_finance_cannot_suspend_a_partner(finance_client, workspace, partner):
    assert finance_client.post(_url(workspace, partner, "suspend")).status_code == 403


def test_an_outsider_gets_404_when_suspending_a_partner(outsider_client, workspace, partner):
    response = outsider_client.post(_url(workspace, partner, "suspend"))

    partner.refresh_from_db()
    assert response.status_code == 404
    assert partner.status == Partner.Status.ACTIVE


def test_another_workspaces_partner_is_404_for_a_manager(manager_client, workspace, other_workspace):
    foreign = PartnerFactory(workspace=other_workspace)

    assert manager_client.post(_url(workspace, foreign, "suspend")).status_code == 404
    assert manager_client.get(_url(workspace, foreign, "edit")).status_code == 404


def test_approving_an_application_twice_sends_one_invitation(workspace, manager):
    from django.core.exceptions import ValidationError

    from partners import services
    from partners.models import Partner
    from tests.partners.factories import PartnerFactory

    applicant = PartnerFactory(workspace=workspace, status=Partner.Status.PENDING)
    stale_copy = Partner.objects.get(pk=applicant.pk)  # what a second, simultaneous submit holds
    with pytest.raises(ValidationError):
        services.approve_partner(partner=applicant, by=manager)
        services.approve_partner(partner=stale_copy, by=manager)
    assert Partner.objects.get(pk=applicant.pk).status == Partner.Status.ACTIVE
    assert applicant.invitations.count() == 1
