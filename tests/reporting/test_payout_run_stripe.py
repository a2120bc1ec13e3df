"""Stripe items of a payout run are paid by Stripe Transfer, exactly once, against a local stand-in of Stripe."""

from __future__ import annotations

import pytest

from reporting.payouts.models import Payout, Statement
from reporting.payouts.runs.models import PayoutRun
from reporting.payouts.runs.services import execute_payout_run, items_of, prepare_payout_run
from reporting.payouts.runs.transfers import pay_stripe_items
from reporting.payouts.statements import mark_statement_paid
from tests.reporting.payout_run_support import StripeStandIn, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def standin(settings):
    server = StripeStandIn(hang_seconds=2.0).start()
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_TIMEOUT_SECONDS = 1.0
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield server
    server.stop()


@pytest.fixture
def world(workspace):
    from attribution.integrations.services import set_stripe_secret_key

    set_stripe_secret_key(workspace=workspace, secret_key="sk_test_standin0123456789", by=None)
    return build_world(workspace)


def _execute(world) -> PayoutRun:
    run = prepare_payout_run(workspace=world.workspace, period=world.period)
    execute_payout_run(run=run)
    pay_stripe_items(workspace=world.workspace, run_id=run.id)
    return PayoutRun.objects.get(workspace=world.workspace, id=run.id)


def test_each_connect_statement_gets_one_transfer_with_amount_destination_group_and_key(world, standin):
    run = _execute(world)
    sent = {r.form["destination"]: r for r in standin.transfers()}
    assert set(sent) == {"acct_1AlphaAlpha", "acct_1BravoBravo"}
    alpha, statement = sent["acct_1AlphaAlpha"], world.statements["stripe_a"]
    assert (alpha.form["amount"], alpha.form["currency"]) == ("12050", "usd")
    assert alpha.form["transfer_group"] == f"tandem-payout-run-{run.id}"
    assert alpha.headers["idempotency-key"] == f"tandem-statement-{statement.pk}"
    assert alpha.headers["authorization"] == "Bearer sk_test_standin0123456789"


def test_a_transferred_statement_is_paid_with_the_transfer_as_reference(world, standin):
    _execute(world)
    statement = Statement.objects.get(pk=world.statements["stripe_a"].pk)
    payout = Payout.objects.get(statement=statement)
    assert statement.status == "paid"
    assert payout.reference.startswith("tr_") and payout.method == "stripe_connect"
    assert payout.ledger_entry.amount == -statement.total


def test_executing_twice_sends_nothing_the_second_time(world, standin):
    run = _execute(world)
    assert run.status == "awaiting_confirmation"  # SEPA and PayPal wait for finance
    execute_payout_run(run=run)
    pay_stripe_items(workspace=world.workspace, run_id=run.id)
    assert len(standin.transfers()) == 2
    assert Payout.objects.filter(workspace=world.workspace).count() == 2


def test_a_refused_transfer_leaves_the_statement_unpaid_with_stripes_message(world, standin):
    standin.refuse_next = 1
    run = _execute(world)
    failed = items_of(run).get(statement=world.statements["stripe_a"])
    assert failed.status == "failed"
    assert "at least one of the following capabilities" in failed.error_message
    assert Statement.objects.get(pk=world.statements["stripe_a"].pk).status == "issued"
    assert run.status == "needs_attention"


def test_a_retry_after_a_refusal_pays_with_a_new_key(world, standin):
    standin.refuse_next = 1
    run = _execute(world)
    execute_payout_run(run=run)
    pay_stripe_items(workspace=world.workspace, run_id=run.id)
    statement = world.statements["stripe_a"]
    assert Statement.objects.get(pk=statement.pk).status == "paid"
    made = standin.made_transfers()
    assert f"tandem-statement-{statement.pk}-attempt-2" in made
    assert f"tandem-statement-{statement.pk}" not in made


def test_a_timeout_after_stripe_accepted_pays_once_on_retry(world, standin):
    standin.hang_next = 1  # Stripe makes the first transfer, but its answer comes after the client gave up
    run = _execute(world)
    statement = world.statements["stripe_a"]
    item = items_of(run).get(statement=statement)
    assert item.status == "failed" and "Retrying is safe" in item.error_message
    assert Statement.objects.get(pk=statement.pk).status == "issued"

    execute_payout_run(run=run)
    pay_stripe_items(workspace=world.workspace, run_id=run.id)
    key = f"tandem-statement-{statement.pk}"
    assert [r.headers["idempotency-key"] for r in standin.transfers()].count(key) == 2
    assert len(standin.made_transfers()) == 2  # one per Connect statement, whatever was sent
    assert Payout.objects.get(statement=statement).reference == items_of(run).get(statement=statement).reference


def test_a_statement_marked_paid_by_hand_meanwhile_is_not_transferred(world, standin):
    run = prepare_payout_run(workspace=world.workspace, period=world.period)
    execute_payout_run(run=run)
    mark_statement_paid(statement=world.statements["stripe_a"], reference="paid by cheque")
    pay_stripe_items(workspace=world.workspace, run_id=run.id)
    assert {r.form["destination"] for r in standin.transfers()} == {"acct_1BravoBravo"}
    assert "marked paid outside the run" in items_of(run).get(statement=world.statements["stripe_a"]).error_message


def test_without_a_stripe_secret_key_the_transfers_fail_saying_what_to_set(workspace, standin):
    world = build_world(workspace)
    run = _execute(world)
    item = items_of(run).get(statement=world.statements["stripe_a"])
    assert item.status == "failed" and "No Stripe secret key" in item.error_message
    assert standin.transfers() == []
