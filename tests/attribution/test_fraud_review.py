"""Partners under fraud review: flagged by a manager, or with commissions waiting for review."""

from __future__ import annotations

import pytest

from attribution.fraud import flagged_partner_ids
from attribution.models import Commission, PartnerFlag
from tests.attribution.factories import CommissionFactory
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def test_flagged_partners_and_partners_with_commissions_in_review_are_under_review(workspace):
    held = CommissionFactory(workspace=workspace, status=Commission.Status.IN_REVIEW)
    clean = CommissionFactory(workspace=workspace, status=Commission.Status.PENDING)
    flagged = PartnerFactory(workspace=workspace)
    PartnerFlag.objects.create(workspace=workspace, partner=flagged, reason="Refunds")

    found = flagged_partner_ids(workspace, [held.partner_id, clean.partner_id, flagged.pk])

    assert found == {held.partner_id, flagged.pk}


def test_another_workspaces_flags_do_not_count(workspace, other_workspace):
    partner = PartnerFactory(workspace=other_workspace)
    PartnerFlag.objects.create(workspace=other_workspace, partner=partner)

    assert flagged_partner_ids(workspace, [partner.pk]) == set()
