"""The payout settings pages: the partner's own in the portal, and finance's on the partner's behalf."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import AuditLogEntry
from partners.models import Partner, TaxForm
from partners.payout_methods import current_payout_method
from partners.payout_methods.services import set_payout_method
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
SEPA = {"type": "sepa", "account_holder": "Paula Park", "iban": "DE89 3704 0044 0532 0130 00", "bic": ""}


@pytest.fixture
def own_partner(partner_user):
    return Partner.objects.get(users__user=partner_user)


def test_a_partner_without_a_method_is_asked_to_choose_one(partner_client, workspace):
    response = partner_client.get(f"/portal/{workspace.slug}/payout-settings/")

    assert response.status_code == 200
    assert "Choose how you are paid" in response.text and "Not set" in response.text


def test_a_partner_sets_a_sepa_account_and_sees_it_masked(
    partner_client, workspace, own_partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = partner_client.post(f"/portal/{workspace.slug}/payout-settings/", SEPA, follow=True)

    assert "SEPA transfer to DE89 •••• 3000" in response.text
    assert IBAN not in response.text and "3704" not in response.text
    assert current_payout_method(own_partner).fields["bic"] == "COBADEFFXXX"
    assert mail.outbox[0].subject == "Your payout details changed"
    assert "changed by the" not in mail.outbox[0].body  # the partner made it


def test_a_wrong_iban_is_shown_next_to_the_iban_field(partner_client, workspace, own_partner):
    response = partner_client.post(
        f"/portal/{workspace.slug}/payout-settings/", {**SEPA, "iban": "DE88370400440532013000"}
    )

    assert response.status_code == 200
    assert "check digits do not match" in response.text
    assert current_payout_method(own_partner) is None


def test_the_partners_change_is_audited_as_theirs(partner_client, partner_user, workspace):
    partner_client.post(f"/portal/{workspace.slug}/payout-settings/", {"type": "paypal", "email": "me@pp.test"})

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="partner.payout_method_changed")
    assert entry.actor == partner_user
    assert "me@pp.test" not in str(entry.changes) and "m•••@pp.test" in str(entry.changes)


@pytest.fixture
def paid_by_sepa(workspace, program):
    partner = PartnerFactory(workspace=workspace, program=program, name="Sepa Partner")
    set_payout_method(partner=partner, method_type="sepa", fields=SEPA, by=None)
    return partner


@pytest.mark.parametrize("persona", ["owner_client", "finance_client"])
def test_owners_and_finance_see_the_details_in_full(request, persona, workspace, paid_by_sepa):
    client = request.getfixturevalue(persona)

    response = client.get(f"/w/{workspace.slug}/partners/{paid_by_sepa.pk}/payout-method/")

    assert response.status_code == 200
    assert IBAN in response.text


@pytest.mark.parametrize("persona", ["manager_client", "viewer_client"])
def test_managers_and_viewers_cannot_open_the_full_details(request, persona, workspace, paid_by_sepa):
    client = request.getfixturevalue(persona)

    assert client.get(f"/w/{workspace.slug}/partners/{paid_by_sepa.pk}/payout-method/").status_code == 403


def test_finance_changes_the_method_on_the_partners_behalf_and_the_partner_is_told(
    finance_client, finance, workspace, paid_by_sepa, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(
            f"/w/{workspace.slug}/partners/{paid_by_sepa.pk}/payout-method/",
            {"type": "manual", "instructions": "Cheque to the Springfield office"},
        )

    assert response.status_code == 302
    assert current_payout_method(paid_by_sepa).label == "Paid outside Tandem"
    assert AuditLogEntry.objects.for_workspace(workspace).filter(actor=finance).exists()
    assert "changed by the Acme team" in mail.outbox[-1].body


def test_another_workspaces_partner_is_a_404_on_the_staff_page(outsider_client, workspace, paid_by_sepa):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/{paid_by_sepa.pk}/payout-method/").status_code == 404


def test_a_partner_signs_a_w9_and_sees_the_tin_masked(partner_client, workspace, own_partner):
    response = partner_client.post(
        f"/portal/{workspace.slug}/tax-details/",
        {
            "kind": "w9",
            "legal_name": "Paula Park LLC",
            "country": "US",
            "tin": "123-45-6789",
            "address_line1": "1 Main St",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "signature_name": "Paula Park",
        },
        follow=True,
    )

    assert "W-9 (US person)" in response.text and "•••••6789" in response.text
    assert "123-45-6789" not in response.text and "123456789" not in response.text
    form = TaxForm.objects.get(workspace=workspace, partner=own_partner)
    assert "6789" not in form.sealed_tin and form.signed_on is not None
    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="partner.tax_form_saved")
    assert "123456789" not in str(entry.changes)


def test_a_w9_without_a_valid_tin_is_refused_naming_the_tin(partner_client, workspace):
    response = partner_client.post(
        f"/portal/{workspace.slug}/tax-details/",
        {
            "kind": "w9",
            "legal_name": "Paula",
            "country": "US",
            "tin": "12",
            "address_line1": "1 Main St",
            "city": "Springfield",
            "signature_name": "Paula",
        },
    )

    assert response.status_code == 200
    assert "9-digit SSN or EIN" in response.text
