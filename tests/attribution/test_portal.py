"""The partner portal's commissions: only the partner's own, with why each was earned."""

from __future__ import annotations

import pytest

from attribution.models import Commission
from tests.accounts.factories import UserFactory
from tests.attribution.conftest import lead, sale, send
from tests.conftest import client_for
from tests.partners.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna_client(anna):
    return client_for(
        PartnerUserFactory(partner=anna, workspace=anna.workspace, user=UserFactory(email="anna@portal.test")).user
    )


@pytest.fixture
def commissions(workspace, anna, ben):
    send(
        workspace,
        lead("l1", "cus_1", partner_id=anna.pk),
        lead("l2", "cus_2", partner_id=ben.pk),
        sale("s1", "cus_1", "100.00"),
        sale("s2", "cus_2", "70.00"),
    )
    return {c.partner_id: c for c in Commission.objects.for_workspace(workspace)}


def test_a_partner_sees_its_own_commissions_with_the_explanation(anna_client, workspace, anna, commissions):
    page = anna_client.get(f"/portal/{workspace.slug}/commissions/").content.decode()
    assert "20.00 USD" in page
    assert "14.00 USD" not in page  # Ben's
    assert "Credited to Anna" in page


def test_a_partner_opens_its_commission(anna_client, workspace, anna, commissions):
    response = anna_client.get(f"/portal/{workspace.slug}/commissions/{commissions[anna.pk].pk}/")
    assert response.status_code == 200 and "How it was worked out" in response.content.decode()


def test_another_partners_commission_is_404(anna_client, workspace, ben, commissions):
    assert anna_client.get(f"/portal/{workspace.slug}/commissions/{commissions[ben.pk].pk}/").status_code == 404


def test_staff_without_a_partner_login_get_404_in_the_portal(owner_client, workspace):
    assert owner_client.get(f"/portal/{workspace.slug}/commissions/").status_code == 404
