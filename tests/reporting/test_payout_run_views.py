"""Finance's payout run pages, and the partner's Stripe onboarding in the portal."""

from __future__ import annotations

import pytest

from partners.payout_methods import current_payout_method
from reporting.payouts.models import Statement
from reporting.payouts.runs.models import PayoutRun
from reporting.payouts.runs.services import execute_payout_run, items_of, prepare_payout_run
from tests.reporting.payout_run_support import StripeStandIn, build_world

pytestmark = pytest.mark.django_db
RUNS = "/w/acme/payouts/runs/"


@pytest.fixture
def world(workspace):
    return build_world(workspace)


@pytest.fixture
def standin(settings):
    server = StripeStandIn().start()
    settings.STRIPE_API_BASE = server.url
    yield server
    server.stop()


def test_finance_starts_a_run_for_the_latest_period_and_sees_the_preview(world, finance_client):
    response = finance_client.post(RUNS, {"period": world.period.pk})
    run = PayoutRun.objects.get(workspace=world.workspace)
    assert response.status_code == 302 and response["Location"] == f"{RUNS}{run.id}/"
    page = finance_client.get(f"{RUNS}{run.id}/").content.decode()
    assert "Preview: nothing is paid yet" in page
    assert "Stripe · 2 statements" in page and "SEPA bank transfer · 1 statement" in page
    assert "No payout method: the partner has not said how it wants to be paid." in page
    assert "Execute: pay 4 statements" in page


def test_the_start_form_offers_the_latest_period_first(world, finance_client):
    page = finance_client.get(RUNS).content.decode()
    assert f'<option value="{world.period.pk}" selected>' in page


def test_executing_from_the_page_leaves_file_payments_to_confirm(world, finance_client):
    run = prepare_payout_run(workspace=world.workspace, period=world.period)
    finance_client.post(f"{RUNS}{run.id}/execute/")
    page = finance_client.get(f"{RUNS}{run.id}/").content.decode()
    assert "SEPA file for your bank" in page and "PayPal batch" in page
    assert "Confirm ticked payments" in page


def test_confirming_ticked_payments_marks_them_paid(world, finance_client):
    run = prepare_payout_run(workspace=world.workspace, period=world.period)
    execute_payout_run(run=run)
    sepa = world.statements["sepa"]
    finance_client.post(f"{RUNS}{run.id}/confirm/", {"statement": [sepa.pk], "reference": "BANK-1"})
    assert Statement.objects.get(pk=sepa.pk).status == "paid"
    assert Statement.objects.get(pk=world.statements["paypal"].pk).status == "issued"
    page = finance_client.get(f"/w/acme/payouts/statements/{sepa.pk}/").content.decode()
    assert "via SEPA bank transfer · reference BANK-1" in page


def test_managers_cannot_open_payout_runs(world, manager_client):
    assert manager_client.get(RUNS).status_code == 403


def test_another_workspaces_run_is_not_found(world, outsider_client, finance_client, other_workspace):
    run = prepare_payout_run(workspace=world.workspace, period=world.period)
    assert outsider_client.get(f"/w/{other_workspace.slug}/payouts/runs/{run.id}/").status_code == 404


def test_the_partner_sees_paid_on_and_via_after_the_run(world, finance_client, client):
    from tests.partners.factories import PartnerUserFactory

    run = prepare_payout_run(workspace=world.workspace, period=world.period)
    execute_payout_run(run=run)
    finance_client.post(f"{RUNS}{run.id}/confirm/", {"statement": [world.statements["sepa"].pk]})
    login = PartnerUserFactory(partner=world.partners["sepa"])
    client.force_login(login.user)
    page = client.get("/portal/acme/statements/").content.decode()
    assert "Paid on" in page and "via SEPA bank transfer" in page
    assert items_of(run).get(statement=world.statements["sepa"]).status == "paid"


def test_the_stripe_onboarding_is_not_offered_without_a_secret_key(partner_client):
    assert partner_client.get("/portal/acme/payouts/stripe/").status_code == 404


def test_the_stripe_onboarding_makes_an_express_account_and_sends_the_partner_to_stripe(
    workspace, partner_user, partner_client, standin
):
    from attribution.integrations.services import set_stripe_secret_key
    from partners.models import PartnerUser

    set_stripe_secret_key(workspace=workspace, secret_key="sk_test_standin0123456789", by=None)
    response = partner_client.post("/portal/acme/payouts/stripe/")
    account = next(r for r in standin.requests if r.path == "/v1/accounts")
    assert account.form["type"] == "express"
    assert response.status_code == 302 and response["Location"].startswith("https://connect.stripe.test/setup/acct_")
    partner = PartnerUser.objects.get(user=partner_user).partner
    method = current_payout_method(partner)
    assert method is not None and method.type == "stripe_connect"
    assert response["Location"].endswith(method.fields["account_id"])


def test_the_stripe_onboarding_page_offers_to_set_up_payouts(workspace, partner_client):
    from attribution.integrations.services import set_stripe_secret_key

    set_stripe_secret_key(workspace=workspace, secret_key="sk_test_standin0123456789", by=None)
    page = partner_client.get("/portal/acme/payouts/stripe/").content.decode()
    assert "Get paid through Stripe" in page and "Set up payouts with Stripe" in page


def test_the_payout_settings_page_links_to_stripe_only_when_the_workspace_pays_through_stripe(
    workspace, partner_client
):
    from attribution.integrations.services import set_stripe_secret_key

    page = partner_client.get("/portal/acme/payout-settings/")
    assert page.status_code == 200 and "Set up Stripe payouts" not in page.content.decode()
    set_stripe_secret_key(workspace=workspace, secret_key="sk_test_standin0123456789", by=None)
    page = partner_client.get("/portal/acme/payout-settings/").content.decode()
    assert "Set up Stripe payouts" in page and 'href="/portal/acme/payouts/stripe/"' in page
