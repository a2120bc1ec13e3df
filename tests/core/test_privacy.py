from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from django.template import engines

from core.privacy import customer_for_partner, customer_for_staff, mask_email
from partners.models import PartnerUser
from referrals.models import Referral
from reporting.payouts.pdf import statement_html
from reporting.payouts.statements import close_payout_period
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import ReferralFactory
from tests.reporting.payout_helpers import earn, refund


def customer(name: str = "", email: str = "", external_id: str = "") -> SimpleNamespace:
    return SimpleNamespace(customer_name=name, customer_email=email, customer_external_id=external_id)


def test_an_email_keeps_only_its_first_letter_and_domain() -> None:
    assert mask_email("john@acme.com") == "j•••@acme.com"


def test_a_one_letter_mailbox_is_still_masked() -> None:
    assert mask_email("j@acme.com") == "j•••@acme.com"


def test_something_that_is_not_an_email_is_hidden_entirely() -> None:
    assert mask_email("john") == "•••"


def test_a_partner_sees_the_name_the_business_shared() -> None:
    assert customer_for_partner(customer(name="Jane Roe", email="jane@acme.com")) == "Jane Roe"


def test_a_partner_never_sees_a_full_email() -> None:
    assert customer_for_partner(customer(email="jane@acme.com", external_id="cus_1")) == "j•••@acme.com"


def test_a_partner_never_sees_an_email_used_as_the_customer_id() -> None:
    assert customer_for_partner(customer(external_id="jane@acme.com")) == "j•••@acme.com"


def test_a_partner_never_sees_an_internal_customer_id() -> None:
    assert customer_for_partner(customer(external_id="demo-cus-131")) == "A customer"


def test_staff_see_the_full_email_when_no_name_was_shared() -> None:
    assert customer_for_staff(customer(email="jane@acme.com", external_id="cus_1")) == "jane@acme.com"


def test_staff_see_the_name_first() -> None:
    assert customer_for_staff(customer(name="Jane Roe", email="jane@acme.com")) == "Jane Roe"


def test_staff_see_the_customer_id_when_nothing_else_is_known() -> None:
    assert customer_for_staff(customer(external_id="cus_1")) == "cus_1"


def test_a_customer_given_as_a_dict_is_masked_too() -> None:
    assert customer_for_partner({"customer_email": "jane@acme.com"}) == "j•••@acme.com"


def test_the_template_filter_masks_for_partners() -> None:
    page = engines["django"].from_string("{{ r|customer_for_partner }}")
    assert page.render({"r": customer(email="jane@acme.com")}) == "j•••@acme.com"


# --- On the pages ------------------------------------------------------------------------------


@pytest.fixture
def referred(workspace, partner_user):
    partner = PartnerUser.objects.get(user=partner_user).partner
    return ReferralFactory(
        workspace=workspace, partner=partner, customer_email="jane.roe@acme.com", customer_external_id="cus_9"
    )


def test_a_partners_referrals_page_shows_the_customer_masked(partner_client, workspace, referred) -> None:
    page = partner_client.get(f"/portal/{workspace.slug}/referrals/").content.decode()
    assert "j•••@acme.com" in page and "jane.roe@acme.com" not in page


def test_the_portal_home_never_shows_a_full_customer_email(partner_client, workspace, referred) -> None:
    page = partner_client.get(f"/portal/{workspace.slug}/").content.decode()
    assert "jane.roe@acme.com" not in page


def test_staff_see_the_customer_email_beside_its_id_on_the_referrals_page(owner_client, workspace, referred) -> None:
    page = owner_client.get(f"/w/{workspace.slug}/referrals/").content.decode()
    assert "jane.roe@acme.com" in page and "cus_9" in page


# --- Statements -------------------------------------------------------------------------------


@pytest.fixture
def statement(workspace):
    partner = PartnerFactory(workspace=workspace, name="Alpha Agency")
    sale = earn(partner, "100.00", sale="500.00")
    Referral.objects.filter(pk=sale.referral_id).update(
        customer_email="jane.roe@acme.com", customer_external_id="cus_9"
    )
    refund(sale, "50.00", on="2026-09-25")
    return close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements[0]


def test_the_partners_statement_pdf_names_the_customer_masked(statement) -> None:
    html = statement_html(statement)
    assert "j•••@acme.com" in html and "jane.roe@acme.com" not in html and "cus_9" not in html


def test_the_partners_statement_pdf_names_a_refund_by_its_sale_date_not_its_event_id(statement) -> None:
    html = statement_html(statement)
    assert "Refund on the sale of" in html and "refund-" not in html


def test_finance_sees_the_customer_email_beside_its_id_on_the_statement_page(finance_client, workspace, statement):
    page = finance_client.get(f"/w/{workspace.slug}/payouts/statements/{statement.pk}/").content.decode()
    assert "jane.roe@acme.com" in page and "cus_9" in page
