"""A deal-registration conflict concerns both deals: the earlier one is flagged as well as the later."""

from __future__ import annotations

from referrals import services
from referrals.models import DealRegistration
from tests.partners.factories import PartnerFactory


def submit(workspace, partner, **overrides):
    data = {
        "company": "Initech",
        "contact_name": "Bill Lumbergh",
        "contact_email": "bill@initech.example",
        "estimated_value": "25000",
        "currency": "USD",
    }
    return services.submit_deal_registration(workspace=workspace, partner=partner, **(data | overrides))


def rival_of(partner):
    return PartnerFactory(workspace=partner.workspace, program=partner.program, name="Rival Reviews")


def test_the_later_deal_is_flagged(workspace, partner):
    submit(workspace, partner)
    later = submit(workspace, rival_of(partner), contact_email="peter@initech.example")
    assert later.has_conflict


def test_the_earlier_deal_is_flagged_too_naming_who_registered_again(workspace, partner):
    first = submit(workspace, partner)
    submit(workspace, rival_of(partner), contact_email="peter@initech.example")
    first.refresh_from_db()
    assert first.has_conflict and "registered again by Rival Reviews" in first.conflict_note


def test_an_unrelated_deal_leaves_the_earlier_one_unflagged(workspace, partner):
    first = submit(workspace, partner)
    submit(workspace, rival_of(partner), company="Globex", contact_email="hank@globex.example")
    first.refresh_from_db()
    assert not first.has_conflict


def test_a_rejected_deal_is_not_flagged_by_a_later_one(workspace, partner):
    first = submit(workspace, partner)
    DealRegistration.objects.filter(pk=first.pk).update(status=DealRegistration.Status.REJECTED)
    submit(workspace, rival_of(partner), contact_email="peter@initech.example")
    first.refresh_from_db()
    assert not first.has_conflict


def test_the_managers_deal_page_shows_the_conflict_on_the_earlier_deal(owner_client, workspace, partner):
    first = submit(workspace, partner)
    submit(workspace, rival_of(partner), contact_email="peter@initech.example")
    page = owner_client.get(f"/w/{workspace.slug}/deals/{first.pk}/").content.decode()
    assert "registered again by Rival Reviews" in page
