"""Referral codes: coupon-style, unique per workspace whatever their case."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from referrals import services
from referrals.models import ReferralCode
from tests.referrals.factories import ReferralCodeFactory


def test_a_chosen_code_keeps_its_case_for_display(workspace, partner):
    assert services.create_referral_code(workspace=workspace, partner=partner, code="Paula10").code == "Paula10"


def test_a_generated_code_starts_with_the_partners_name(workspace, partner):
    code = services.create_referral_code(workspace=workspace, partner=partner).code
    assert code.startswith("PAULASPICK-") and len(code) == len("PAULASPICK-") + 4


def test_the_same_code_in_another_case_is_refused(workspace, partner):
    ReferralCodeFactory(workspace=workspace, code="PAULA10")
    with pytest.raises(ValidationError) as error:
        services.create_referral_code(workspace=workspace, partner=partner, code="paula10")
    assert error.value.message_dict == {"code": ["The code “paula10” is already in use in this workspace."]}


def test_the_database_refuses_a_case_variant_too(workspace, partner):
    ReferralCodeFactory(workspace=workspace, partner=partner, code="PAULA10")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralCodeFactory(workspace=workspace, partner=partner, code="Paula10")


def test_another_workspace_may_use_the_same_code(workspace, partner, other_workspace):
    ReferralCodeFactory(workspace=other_workspace, code="PAULA10")
    assert services.create_referral_code(workspace=workspace, partner=partner, code="PAULA10")


def test_a_code_with_spaces_is_refused(workspace, partner):
    with pytest.raises(ValidationError):
        services.create_referral_code(workspace=workspace, partner=partner, code="paula 10")


def test_manager_creates_a_code_for_a_partner(manager_client, workspace, partner):
    response = manager_client.post(f"/w/{workspace.slug}/codes/", {"partner": partner.pk, "code": "SPRING24"})
    assert response.status_code == 302
    assert ReferralCode.objects.get().partner == partner


def test_the_codes_page_shows_a_taken_code_next_to_its_field(manager_client, workspace, partner):
    ReferralCodeFactory(workspace=workspace, code="SPRING24")
    response = manager_client.post(f"/w/{workspace.slug}/codes/", {"partner": partner.pk, "code": "spring24"})
    assert response.status_code == 200
    assert "already in use" in response.context["form"].errors["code"][0]


def test_viewer_sees_codes_but_cannot_create_one(viewer_client, workspace, partner):
    ReferralCodeFactory(workspace=workspace, partner=partner, code="SPRING24")
    assert b"SPRING24" in viewer_client.get(f"/w/{workspace.slug}/codes/").content
    assert viewer_client.post(f"/w/{workspace.slug}/codes/", {"partner": partner.pk}).status_code == 403


def test_manager_retires_a_code(manager_client, workspace, partner):
    code = ReferralCodeFactory(workspace=workspace, partner=partner)
    manager_client.post(f"/w/{workspace.slug}/codes/{code.pk}/archive/")
    code.refresh_from_db()
    assert code.archived_at is not None


def test_outsider_gets_404_on_codes_pages(outsider_client, workspace, partner):
    code = ReferralCodeFactory(workspace=workspace, partner=partner)
    assert outsider_client.get(f"/w/{workspace.slug}/codes/").status_code == 404
    assert outsider_client.post(f"/w/{workspace.slug}/codes/{code.pk}/archive/").status_code == 404


def test_another_workspaces_code_cannot_be_retired(manager_client, workspace, other_workspace):
    foreign = ReferralCodeFactory(workspace=other_workspace)
    assert manager_client.post(f"/w/{workspace.slug}/codes/{foreign.pk}/archive/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.archived_at is None
