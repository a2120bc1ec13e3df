"""Deal registration: partners register leads, Tandem flags conflicts, managers approve or reject."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from referrals import services
from referrals.models import DealRegistration, Referral
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import DealRegistrationFactory, ReferralFactory


def submit(workspace, partner, **overrides):
    data = dict(
        company="Initech",
        contact_name="Bill Lumbergh",
        contact_email="bill@initech.example",
        estimated_value="25000",
        currency="usd",
    )
    data.update(overrides)
    return services.submit_deal_registration(workspace=workspace, partner=partner, **data)


def test_a_registration_is_stored_awaiting_review(workspace, partner):
    deal = submit(workspace, partner)
    assert (deal.status, deal.estimated_value, deal.currency, deal.company_domain) == (
        DealRegistration.Status.SUBMITTED,
        Decimal("25000.00"),
        "USD",
        "initech.example",
    )
    assert not deal.has_conflict


def test_a_free_mail_address_gives_no_company_domain(workspace, partner):
    assert submit(workspace, partner, contact_email="bill@gmail.com").company_domain == ""


@pytest.mark.parametrize(
    "field,value",
    [
        ("currency", "XYZ"),
        ("estimated_value", "-5"),
        ("estimated_value", "lots"),
        ("company", " "),
        ("contact_email", "bill"),
    ],
)
def test_bad_input_is_refused_naming_the_field(workspace, partner, field, value):
    with pytest.raises(ValidationError) as error:
        submit(workspace, partner, **{field: value})
    assert field in error.value.message_dict


def test_a_customer_already_referred_by_email_is_flagged(workspace, partner):
    other = PartnerFactory(workspace=workspace, program=partner.program, name="Other Partner")
    ReferralFactory(workspace=workspace, partner=other, program=partner.program, customer_email="bill@initech.example")
    deal = submit(workspace, partner)
    assert "already a referral of Other Partner" in deal.conflict_note


def test_a_colleague_at_the_same_company_domain_is_flagged(workspace, partner):
    ReferralFactory(
        workspace=workspace,
        program=partner.program,
        customer_email="peter@initech.example",
        customer_domain="initech.example",
    )
    assert submit(workspace, partner).has_conflict


def test_a_company_registered_by_another_partner_is_flagged(workspace, partner):
    other = PartnerFactory(workspace=workspace, program=partner.program, name="Rival")
    submit(workspace, other, contact_email="milton@initech.example")
    assert "registered by Rival" in submit(workspace, partner).conflict_note


def test_another_workspaces_customers_never_conflict(workspace, partner, other_workspace):
    ReferralFactory(workspace=other_workspace, customer_email="bill@initech.example", customer_domain="initech.example")
    DealRegistrationFactory(workspace=other_workspace, company="Initech", contact_email="bill@initech.example")
    assert not submit(workspace, partner).has_conflict


def test_approval_makes_a_protected_referral_and_emails_the_partner(
    workspace, partner, manager, django_capture_on_commit_callbacks
):
    deal = submit(workspace, partner)
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.approve_deal_registration(deal=deal, by=manager, reason="Welcome aboard")
    deal.refresh_from_db()
    assert deal.status == DealRegistration.Status.APPROVED and deal.decided_by == manager
    assert (referral.source, referral.partner, referral.deal_registration) == (
        Referral.Source.DEAL_REGISTRATION,
        partner,
        deal,
    )
    expected = timezone.now() + timedelta(days=partner.program.deal_protection_days)
    assert abs(referral.protected_until - expected) < timedelta(minutes=1)
    assert deal.expires_at == referral.protected_until
    [email] = mail.outbox
    assert email.to == [partner.email] and "approved" in email.subject
    assert "Welcome aboard" in email.body and email.alternatives


def test_rejection_needs_a_reason_and_emails_it(workspace, partner, manager, django_capture_on_commit_callbacks):
    deal = submit(workspace, partner)
    with pytest.raises(ValidationError):
        services.reject_deal_registration(deal=deal, by=manager, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_deal_registration(deal=deal, by=manager, reason="Already in talks with them")
    deal.refresh_from_db()
    assert deal.status == DealRegistration.Status.REJECTED
    assert not Referral.objects.exists()
    [email] = mail.outbox
    assert "not approved" in email.subject and "Already in talks with them" in email.body


def test_a_decided_registration_cannot_be_decided_again(workspace, partner, manager):
    deal = submit(workspace, partner)
    services.approve_deal_registration(deal=deal, by=manager)
    with pytest.raises(ValidationError, match="already approved"):
        services.reject_deal_registration(deal=deal, by=manager, reason="changed my mind")


def test_protection_expires_unless_the_customer_bought(workspace, partner, manager):
    lapsed = submit(workspace, partner)
    bought = submit(workspace, partner, company="Globochem", contact_email="ann@globochem.example")
    lapsed_referral = services.approve_deal_registration(deal=lapsed, by=manager)
    bought_referral = services.approve_deal_registration(deal=bought, by=manager)
    services.mark_referral_converted(referral=bought_referral)
    later = timezone.now() + timedelta(days=partner.program.deal_protection_days + 1)

    assert services.expire_deal_registrations(now=later) == 1
    assert services.expire_deal_registrations(now=later) == 0  # running it again changes nothing

    lapsed.refresh_from_db()
    lapsed_referral.refresh_from_db()
    bought.refresh_from_db()
    assert (lapsed.status, lapsed_referral.stage) == (DealRegistration.Status.EXPIRED, Referral.Stage.EXPIRED)
    assert bought.status == DealRegistration.Status.APPROVED


def test_expiry_task_runs_the_service(workspace, partner, manager):
    from referrals.tasks import expire_deal_registrations

    deal = submit(workspace, partner)
    services.approve_deal_registration(deal=deal, by=manager)
    DealRegistration.objects.filter(pk=deal.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_deal_registrations.apply().get() == 1


# --- Manager pages -------------------------------------------------------------------------


def test_manager_sees_registrations_to_review_with_the_conflict_flag(manager_client, workspace, partner):
    DealRegistrationFactory(workspace=workspace, partner=partner, company="Initech", conflict_note="Taken by Rival.")
    response = manager_client.get(f"/w/{workspace.slug}/deals/", {"status": "submitted"})
    assert b"Initech" in response.content and b"Possible conflict" in response.content


def test_manager_approves_from_the_deal_page(manager_client, workspace, partner):
    deal = DealRegistrationFactory(workspace=workspace, partner=partner)
    assert b"Approve" in manager_client.get(f"/w/{workspace.slug}/deals/{deal.pk}/").content
    response = manager_client.post(f"/w/{workspace.slug}/deals/{deal.pk}/approve/", {"reason": ""})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.status == DealRegistration.Status.APPROVED


def test_rejecting_without_a_reason_shows_the_error_by_the_field(manager_client, workspace, partner):
    deal = DealRegistrationFactory(workspace=workspace, partner=partner)
    response = manager_client.post(f"/w/{workspace.slug}/deals/{deal.pk}/reject/", {"reason": ""})
    assert response.status_code == 422
    assert "Tell the partner why" in response.context["form"].errors["reason"][0]


def test_viewer_cannot_decide(viewer_client, workspace, partner):
    deal = DealRegistrationFactory(workspace=workspace, partner=partner)
    assert viewer_client.post(f"/w/{workspace.slug}/deals/{deal.pk}/approve/").status_code == 403


def test_outsider_gets_404_on_deal_pages(outsider_client, workspace, partner):
    deal = DealRegistrationFactory(workspace=workspace, partner=partner)
    assert outsider_client.get(f"/w/{workspace.slug}/deals/").status_code == 404
    assert outsider_client.get(f"/w/{workspace.slug}/deals/{deal.pk}/").status_code == 404
    assert outsider_client.post(f"/w/{workspace.slug}/deals/{deal.pk}/approve/").status_code == 404


def test_another_workspaces_deal_cannot_be_approved_from_mine(manager_client, workspace, other_workspace):
    foreign = DealRegistrationFactory(workspace=other_workspace)
    assert manager_client.post(f"/w/{workspace.slug}/deals/{foreign.pk}/approve/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == DealRegistration.Status.SUBMITTED
