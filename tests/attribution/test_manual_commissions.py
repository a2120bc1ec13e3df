"""A manager gives a partner a bonus: by API and from the commissions page; it lives like any commission."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import AuditLogEntry
from attribution.models import Commission, LedgerEntry
from attribution.services import approve_commissions
from tests.attribution.conftest import sale, send

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers)


def bonus_body(partner, **fields):
    return {"partner_id": partner.pk, "amount": "50.00", "currency": "USD", "description": "Webinar co-host"} | fields


def test_the_api_adds_a_bonus_and_answers_it_like_the_commission_list(api_client, anna):
    response = post(api_client, "/commissions", bonus_body(anna))
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"], body["amount"], body["description"]) == (
        "manual",
        "pending",
        "50.00",
        "Webinar co-host",
    )
    listed = api_client.get("/api/v1/commissions", {"partner_id": anna.pk}).json()["items"]
    assert listed == [body]


def test_a_bonus_posts_a_ledger_entry_and_the_chain_still_verifies(api_client, workspace, anna):
    send(workspace, sale("s1", "cus_1", partner_id=anna.pk))
    post(api_client, "/commissions", bonus_body(anna))
    entry = LedgerEntry.objects.for_workspace(workspace).order_by("-sequence").first()
    assert (entry.amount, entry.memo) == (Decimal("50.0000"), "Bonus from Acme: Webinar co-host")
    call_command("verify_ledger", "--workspace", workspace.slug)  # exits non-zero on a broken chain


def test_the_same_idempotency_key_twice_is_one_bonus(api_client, workspace, anna):
    first = post(api_client, "/commissions", bonus_body(anna), **{"Idempotency-Key": "bonus-1"})
    again = post(api_client, "/commissions", bonus_body(anna), **{"Idempotency-Key": "bonus-1"})
    assert again.json()["id"] == first.json()["id"]
    assert Commission.objects.for_workspace(workspace).count() == 1


def test_a_bonus_with_too_many_decimals_is_refused_naming_the_amount(api_client, anna):
    response = post(api_client, "/commissions", bonus_body(anna, amount="10.005"))
    assert response.status_code == 422
    assert "amount" in response.json()["error"]["fields"]


def test_a_bonus_for_another_workspaces_partner_is_refused(api_client, other_workspace):
    from tests.partners.factories import PartnerFactory

    theirs = PartnerFactory(workspace=other_workspace)
    response = post(api_client, "/commissions", bonus_body(theirs))
    assert response.status_code == 422
    assert "partner_id" in response.json()["error"]["fields"]


def test_a_bonus_is_audited(api_client, workspace, anna):
    post(api_client, "/commissions", bonus_body(anna))
    entry = AuditLogEntry.objects.filter(workspace=workspace, action="commission.manual_added").get()
    assert entry.changes["description"] == "Webinar co-host"


def test_a_bonus_is_due_at_once_and_approved_with_the_others(api_client, workspace, anna):
    commission_id = post(api_client, "/commissions", bonus_body(anna)).json()["id"]
    assert approve_commissions(workspace=workspace, due=True, by=None) == [commission_id]


def add_bonus_page(client, workspace, partner, **fields):
    data = {"partner": partner.pk, "amount": "25.00", "currency": "USD", "description": "Great quarter"}
    return client.post(f"/w/{workspace.slug}/commissions/new/", data | {"request_key": "k1"} | fields)


def test_a_manager_adds_a_bonus_from_the_page_and_sees_it(manager_client, workspace, anna):
    response = add_bonus_page(manager_client, workspace, anna)
    commission = Commission.objects.for_workspace(workspace).get()
    assert response["Location"] == f"/w/{workspace.slug}/commissions/{commission.pk}/"
    assert "Great quarter" in manager_client.get(response["Location"]).content.decode()


def test_the_same_bonus_form_sent_twice_is_one_bonus(manager_client, workspace, anna):
    add_bonus_page(manager_client, workspace, anna)
    add_bonus_page(manager_client, workspace, anna)
    assert Commission.objects.for_workspace(workspace).count() == 1


def test_the_partner_reads_the_bonus_with_its_reason(workspace, anna):
    from attribution.adjustments import add_manual_commission
    from tests.conftest import client_for
    from tests.partners.factories import PartnerUserFactory

    login = PartnerUserFactory(partner=anna)
    add_manual_commission(
        workspace=workspace, partner=anna, amount=Decimal("25"), currency="USD", description="Great quarter", by=None
    )
    page = client_for(login.user).get(f"/portal/{workspace.slug}/commissions/").content.decode()
    assert "Bonus from Acme: Great quarter" in page


def test_a_viewer_cannot_add_a_bonus(viewer_client, workspace, anna):
    assert add_bonus_page(viewer_client, workspace, anna).status_code == 403


def test_an_outsider_gets_404_on_the_bonus_page(outsider_client, workspace, anna):
    assert outsider_client.get(f"/w/{workspace.slug}/commissions/new/").status_code == 404


def test_an_approved_bonus_goes_on_the_partners_next_statement(workspace, anna):
    from datetime import timedelta

    from django.utils import timezone

    from attribution.adjustments import add_manual_commission
    from reporting.payouts.statements import close_payout_period

    bonus, _ = add_manual_commission(
        workspace=workspace, partner=anna, amount=Decimal("500.00"), currency="USD", description="Launch", by=None
    )
    approve_commissions(workspace=workspace, ids=[bonus.pk], by=None)
    today = timezone.now().date()
    closed = close_payout_period(workspace=workspace, end=today, today=today + timedelta(days=1), email_partners=False)
    line = closed.statements[0].lines.get()
    assert (line.description, line.amount) == ("Bonus: Launch", Decimal("500.00"))


def test_a_bonus_counts_in_the_partners_stats(api_client, workspace, anna):
    from reporting import rollups

    post(api_client, "/commissions", bonus_body(anna, amount="50.00"))
    today = dt.datetime.now(dt.UTC).date()
    rollups.rebuild(workspace_id=workspace.pk, start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1))
    stats = api_client.get(
        f"/api/v1/partners/{anna.pk}/stats", {"start": today.isoformat(), "end": today.isoformat()}
    ).json()
    assert (stats["commissions"]["pending"], stats["commissions"]["net"]) == ("50.00", "50.00")
