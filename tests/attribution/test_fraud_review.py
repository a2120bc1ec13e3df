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


# --- The review queue, through the pages, the portal and the API ------------------------------------

from datetime import timedelta  # noqa: E402

from django.utils import timezone  # noqa: E402

from accounts.models import AuditLogEntry  # noqa: E402
from attribution.ledger import verify_chain  # noqa: E402
from attribution.models import FraudSettings, LedgerEntry, ReviewReply  # noqa: E402
from attribution.services import approve_commissions, approve_due_commissions  # noqa: E402
from tests.accounts.factories import UserFactory  # noqa: E402
from tests.attribution.conftest import JAN, click_of, sale, send  # noqa: E402
from tests.conftest import client_for  # noqa: E402
from tests.partners.factories import PartnerUserFactory  # noqa: E402


@pytest.fixture
def held(workspace, anna):
    """Anna's sale to her own +tag mailbox: a self-referral held for review, its hold already over."""
    clicked = click_of(anna)
    send(workspace, sale("s1", "cus_1", click_id=clicked.click_id, customer_email="anna+x@partner.test"))
    return Commission.objects.for_workspace(workspace).get(conversion__event_id="s1")


@pytest.fixture
def anna_client(anna):
    user = UserFactory(email="anna@portal.test")
    PartnerUserFactory(partner=anna, workspace=anna.workspace, user=user)
    return client_for(user)


def test_a_held_commission_is_never_approved_when_its_hold_ends(workspace, held, owner):
    assert held.hold_until < timezone.now()
    approve_due_commissions()
    assert approve_commissions(workspace=workspace, ids=[held.pk], by=owner) == []
    held.refresh_from_db()
    assert held.status == Commission.Status.IN_REVIEW


def test_the_queue_lists_held_commissions_with_their_reasons(manager_client, workspace, held):
    page = manager_client.get(f"/w/{workspace.slug}/review/").content.decode()
    assert "20.00" in page and "Anna" in page
    assert "own mailbox with a +tag: a self-referral." in page


def test_an_outsider_gets_404_for_the_queue_and_its_actions(outsider_client, workspace, held, program):
    assert outsider_client.get(f"/w/{workspace.slug}/review/").status_code == 404
    answer = outsider_client.post(f"/w/{workspace.slug}/review/decide/", {"ids": [held.pk], "action": "clear"})
    assert answer.status_code == 404
    assert outsider_client.get(f"/w/{workspace.slug}/programs/{program.pk}/fraud/").status_code == 404


def test_a_viewer_sees_the_queue_but_cannot_decide(viewer_client, workspace, held):
    assert viewer_client.get(f"/w/{workspace.slug}/review/").status_code == 200
    answer = viewer_client.post(f"/w/{workspace.slug}/review/decide/", {"ids": [held.pk], "action": "clear"})
    assert answer.status_code == 403


def test_clearing_a_held_commission_whose_hold_ended_approves_it_and_is_audited(manager_client, workspace, held):
    manager_client.post(f"/w/{workspace.slug}/review/decide/", {"ids": [held.pk], "action": "clear"})
    held.refresh_from_db()
    assert held.status == Commission.Status.APPROVED
    assert AuditLogEntry.objects.filter(workspace=workspace, action="commission.review_cleared").exists()


def test_clearing_before_the_hold_ends_makes_it_pending_again(manager_client, workspace, held):
    Commission.objects.filter(pk=held.pk).update(hold_until=timezone.now() + timedelta(days=5))
    manager_client.post(f"/w/{workspace.slug}/review/decide/", {"ids": [held.pk], "action": "clear"})
    held.refresh_from_db()
    assert held.status == Commission.Status.PENDING


def test_a_held_commission_is_announced_to_its_partner_only_once_cleared(manager_client, workspace, held):
    from partners.notifications.models import Kind, Notification

    told = Notification.objects.for_workspace(workspace).filter(kind=Kind.NEW_COMMISSION)
    assert not told.exists()  # held: the partner is not told of money that may not be theirs

    manager_client.post(f"/w/{workspace.slug}/review/decide/", {"ids": [held.pk], "action": "clear"})
    manager_client.post(f"/w/{workspace.slug}/review/decide/", {"ids": [held.pk], "action": "clear"})

    (notification,) = told
    assert notification.object_key == f"commission:{held.pk}" and notification.details["amount"] == "20.00"


def test_rejecting_in_bulk_needs_a_reason_and_takes_the_money_back(manager_client, workspace, held, anna):
    url = f"/w/{workspace.slug}/review/decide/"
    manager_client.post(url, {"scope": "matching", "action": "reject", "reason": ""})
    held.refresh_from_db()
    assert held.status == Commission.Status.IN_REVIEW
    manager_client.post(url, {"scope": "matching", "action": "reject", "reason": "Bought with her own email"})
    held.refresh_from_db()
    assert (held.status, held.rejection_reason) == (Commission.Status.REJECTED, "Bought with her own email")
    kinds = list(LedgerEntry.objects.filter(workspace=workspace).order_by("sequence").values_list("kind", flat=True))
    assert kinds == [LedgerEntry.Kind.COMMISSION_EARNED, LedgerEntry.Kind.COMMISSION_REJECTED]
    assert verify_chain(workspace)[1] is None


def test_flagging_a_partner_from_the_queue_blocks_it_and_unflagging_is_audited(manager_client, workspace, ben):
    url = f"/w/{workspace.slug}/review/flags/"
    manager_client.post(url, {"partner": ben.pk, "reason": "Odd refunds", "action": "flag"})
    assert flagged_partner_ids(workspace, [ben.pk]) == {ben.pk}
    assert "Odd refunds" in manager_client.get(f"/w/{workspace.slug}/review/").content.decode()
    manager_client.post(url, {"partner": ben.pk, "action": "unflag"})
    assert flagged_partner_ids(workspace, [ben.pk]) == set()
    actions = set(AuditLogEntry.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert {"partner.flagged", "partner.unflagged"} <= actions


def test_the_partner_sees_under_review_and_explains_once(anna_client, manager_client, workspace, held):
    detail = f"/portal/{workspace.slug}/commissions/{held.pk}/"
    page = anna_client.get(detail).content.decode()
    assert "Under review" in page and "self-referral" not in page
    anna_client.post(f"{detail}explain/", {"message": "My husband bought it with my address."})
    anna_client.post(f"{detail}explain/", {"message": "Second try"})
    assert list(ReviewReply.objects.for_workspace(workspace).values_list("message", flat=True)) == [
        "My husband bought it with my address."
    ]
    assert "My husband bought it" in manager_client.get(f"/w/{workspace.slug}/review/").content.decode()


def test_another_partner_cannot_explain_annas_commission(partner_client, workspace, held):
    answer = partner_client.post(f"/portal/{workspace.slug}/commissions/{held.pk}/explain/", {"message": "Hi"})
    assert answer.status_code == 404
    assert not ReviewReply.objects.for_workspace(workspace).exists()


def test_the_staff_commission_page_shows_the_score_and_sentences(manager_client, workspace, held):
    page = manager_client.get(f"/w/{workspace.slug}/commissions/{held.pk}/").content.decode()
    assert "100 of 100." in page
    assert "own mailbox with a +tag" in page


def test_the_api_gives_every_commission_its_risk_and_filters_by_in_review(api_client, workspace, held, anna):
    clean = click_of(anna, at=JAN - timedelta(days=2))
    send(workspace, sale("s2", "cus_2", click_id=clean.click_id))
    items = api_client.get("/api/v1/commissions?status=in_review").json()["items"]
    assert [(c["id"], c["status"], c["risk"]["score"]) for c in items] == [(held.pk, "in_review", 100)]
    assert "a self-referral" in items[0]["risk"]["reasons"][0]
    everything = api_client.get("/api/v1/commissions").json()["items"]
    assert {c["risk"]["score"] for c in everything} == {0, 100}


def test_the_settings_page_saves_a_programs_threshold_and_weights(manager_client, workspace, program):
    url = f"/w/{workspace.slug}/programs/{program.pk}/fraud/"
    form = manager_client.get(url).context["form"]
    data = {name: form.initial[name] for name in form.fields}
    data.update(review_threshold=60, weight_company_domain=70, threshold_fast_sale=30)
    manager_client.post(url, data)
    row = FraudSettings.objects.get(workspace=workspace, program=program)
    assert row.review_threshold == 60
    assert row.signals == {"company_domain": {"weight": 70}, "fast_sale": {"threshold": 30.0}}


def test_a_held_commission_counts_as_pending_in_the_partners_stats(api_client, workspace, held, anna):
    from reporting.rollups.refresh import refresh_range

    refresh_range(workspace_id=workspace.pk, start=JAN.date(), end=JAN.date())
    body = api_client.get(f"/api/v1/partners/{anna.pk}/stats?start=2026-01-01&end=2026-01-31").json()
    assert body["commissions"]["pending"] == "20.00"
    assert body["commissions"]["net"] == "20.00"
