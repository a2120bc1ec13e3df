"""A partner's payout details (bank account, PayPal address) are for the people who pay: owners and finance."""

from __future__ import annotations

import pytest

from tests.partners.factories import PartnerFactory

IBAN = "NL91 ABNA 0417 1643 00"


@pytest.fixture
def partner(workspace):
    return PartnerFactory(workspace=workspace, payout_method="bank_transfer", payout_details=IBAN)


def test_an_owner_sees_a_partners_payout_details(owner_client, workspace, partner):
    assert IBAN in owner_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").content.decode()


def test_finance_sees_a_partners_payout_details(finance_client, workspace, partner):
    assert IBAN in finance_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").content.decode()


def test_a_manager_does_not_see_a_partners_payout_details(manager_client, workspace, partner):
    page = manager_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").content.decode()
    assert IBAN not in page and "Payout details" not in page


def test_a_manager_editing_a_partner_does_not_see_its_payout_details(manager_client, workspace, partner):
    page = manager_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/edit/").content.decode()
    assert IBAN not in page


def test_a_managers_edit_keeps_the_partners_payout_details(manager_client, workspace, partner):
    manager_client.post(
        f"/w/{workspace.slug}/partners/{partner.pk}/edit/",
        {"name": "Renamed", "email": partner.email, "program": partner.program_id},
    )
    partner.refresh_from_db()
    assert (partner.name, partner.payout_details) == ("Renamed", IBAN)


def test_an_outsider_gets_a_404_for_the_partner_page(outsider_client, workspace, partner):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").status_code == 404
