"""A partner's payout details (bank account, PayPal address) are for the people who pay: owners and finance.
Everyone else on the partner page sees how the partner is paid, masked."""

from __future__ import annotations

import pytest

from tests.partners.factories import PartnerFactory, with_payout_method

IBAN = "NL91ABNA0417164300"


@pytest.fixture
def partner(workspace):
    return with_payout_method(
        PartnerFactory(workspace=workspace), "sepa", account_holder="Jo", iban=IBAN, bic="ABNANL2A"
    )


@pytest.mark.parametrize("persona", ["owner_client", "finance_client"])
def test_owners_and_finance_reach_the_full_details_from_the_partner_page(request, persona, workspace, partner):
    client = request.getfixturevalue(persona)

    page = client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").content.decode()

    assert "SEPA transfer to NL91 •••• 4300" in page and IBAN not in page
    assert f"/w/{workspace.slug}/partners/{partner.pk}/payout-method/" in page
    assert IBAN in client.get(f"/w/{workspace.slug}/partners/{partner.pk}/payout-method/").content.decode()


@pytest.mark.parametrize("persona", ["manager_client", "viewer_client"])
def test_managers_and_viewers_see_only_the_masked_method(request, persona, workspace, partner):
    client = request.getfixturevalue(persona)

    page = client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").content.decode()

    assert "SEPA transfer to NL91 •••• 4300" in page
    assert IBAN not in page and "/payout-method/" not in page


def test_a_manager_editing_a_partner_does_not_see_its_payout_details(manager_client, workspace, partner):
    page = manager_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/edit/").content.decode()
    assert IBAN not in page


def test_an_outsider_gets_a_404_for_the_partner_page(outsider_client, workspace, partner):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/{partner.pk}/").status_code == 404
