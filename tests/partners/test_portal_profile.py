from __future__ import annotations

from accounts.models import AuditLogEntry
from partners.models import Partner


def test_a_partner_edits_their_profile(partner_client, partner_user, workspace):
    response = partner_client.post(
        f"/portal/{workspace.slug}/profile/",
        {
            "company": "Brightside Media",
            "country": "DE",
        },
    )

    partner = Partner.objects.get(users__user=partner_user)
    assert response.status_code == 302
    assert (partner.company, partner.country) == ("Brightside Media", "DE")


def test_a_partner_cannot_change_their_own_status_or_name(partner_client, partner_user, workspace):
    partner = Partner.objects.get(users__user=partner_user)

    partner_client.post(f"/portal/{workspace.slug}/profile/", {"name": "Hacker", "status": "active", "country": ""})

    partner.refresh_from_db()
    assert partner.name != "Hacker"


def test_the_profile_change_is_audited_as_the_partners(partner_client, partner_user, workspace):
    partner_client.post(f"/portal/{workspace.slug}/profile/", {"company": "Brightside Media", "country": "DE"})

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="partner.profile_updated")
    assert entry.actor == partner_user
    assert entry.changes["company"] == ["", "Brightside Media"]


def test_an_unknown_country_is_shown_next_to_the_field(partner_client, workspace):
    response = partner_client.post(f"/portal/{workspace.slug}/profile/", {"country": "XX"})

    assert response.status_code == 200
    assert "country" in response.context["form"].errors


def test_an_outsider_gets_404_on_the_portal_profile(outsider_client, workspace, partner_user):
    assert outsider_client.get(f"/portal/{workspace.slug}/profile/").status_code == 404


def test_staff_without_a_partner_login_get_404_on_the_portal_profile(owner_client, workspace):
    assert owner_client.get(f"/portal/{workspace.slug}/profile/").status_code == 404
