"""Who a payout run can pay, and why the others are blocked, in words finance and the partner understand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from attribution.models import PartnerFlag
from partners.models import TaxForm
from reporting.payouts.runs.models import PayoutRun, PayoutRunItem
from reporting.payouts.runs.services import execute_payout_run, items_of, prepare_payout_run
from tests.reporting.payout_run_support import build_world, give_method

pytestmark = pytest.mark.django_db


def _items(run: PayoutRun) -> dict[int, PayoutRunItem]:
    return {item.partner_id: item for item in items_of(run)}


def test_each_statement_is_paid_by_its_partners_method(workspace):
    world = build_world(workspace)
    items = _items(prepare_payout_run(workspace=workspace, period=world.period))
    methods = {key: items[p.pk].method for key, p in world.partners.items()}
    assert methods == {
        "stripe_a": "stripe_connect",
        "stripe_b": "stripe_connect",
        "sepa": "sepa",
        "paypal": "paypal",
        "none": "",
    }
    assert items[world.partners["stripe_a"].pk].amount == Decimal("120.50")
    assert items[world.partners["stripe_a"].pk].status == "pending"


def test_a_partner_without_a_payout_method_is_blocked_saying_so(workspace):
    world = build_world(workspace)
    item = _items(prepare_payout_run(workspace=workspace, period=world.period))[world.partners["none"].pk]
    assert item.status == "blocked"
    assert item.blocked_reason == "No payout method: the partner has not said how it wants to be paid."


def test_a_partner_under_fraud_review_is_blocked(workspace):
    world = build_world(workspace)
    PartnerFlag.objects.create(workspace=workspace, partner=world.partners["stripe_a"], reason="Self-referrals")
    item = _items(prepare_payout_run(workspace=workspace, period=world.period))[world.partners["stripe_a"].pk]
    assert item.status == "blocked"
    assert "fraud review" in item.blocked_reason


def test_a_partner_owing_a_tax_form_its_program_requires_is_blocked(workspace):
    world = build_world(workspace)
    program = world.partners["paypal"].program
    program.requires_tax_form = True
    program.save(update_fields=["requires_tax_form"])
    items = _items(prepare_payout_run(workspace=workspace, period=world.period))
    assert items[world.partners["paypal"].pk].blocked_reason.startswith("No tax form on file")
    assert TaxForm.objects.count() == 0


def test_a_statement_below_the_program_minimum_is_blocked_with_the_minimum(workspace):
    world = build_world(workspace)
    program = world.partners["stripe_b"].program
    program.minimum_payout = Decimal("100")
    program.save(update_fields=["minimum_payout"])
    item = _items(prepare_payout_run(workspace=workspace, period=world.period))[world.partners["stripe_b"].pk]
    assert item.blocked_reason == "Below the program's minimum payout of 100.00 USD."


def test_sepa_for_a_dollar_statement_is_blocked_never_converted(workspace):
    world = build_world(workspace)
    give_method(world.partners["paypal"], "sepa", account_holder="Delta", iban="DE89370400440532013000")
    item = _items(prepare_payout_run(workspace=workspace, period=world.period))[world.partners["paypal"].pk]
    assert item.status == "blocked"
    assert "euros only" in item.blocked_reason and "USD" in item.blocked_reason
    assert item.currency == "USD" and item.amount == Decimal("42.10")


def test_a_statement_already_in_an_executed_run_is_blocked_in_the_next_one(workspace):
    world = build_world(workspace)
    first = prepare_payout_run(workspace=workspace, period=world.period)
    execute_payout_run(run=first)
    second = prepare_payout_run(workspace=workspace, period=world.period)
    item = _items(second)[world.partners["stripe_a"].pk]
    assert item.status == "blocked"
    assert item.blocked_reason == f"Already in payout run {first.id}."


def test_a_new_preview_replaces_an_older_preview_of_the_same_statements(workspace):
    world = build_world(workspace)
    first = prepare_payout_run(workspace=workspace, period=world.period)
    second = prepare_payout_run(workspace=workspace, period=world.period)
    assert _items(second)[world.partners["stripe_a"].pk].status == "pending"
    assert PayoutRun.objects.get(workspace=workspace, id=first.id).status == "cancelled"


def test_the_database_refuses_a_statement_in_two_live_runs(workspace):
    world = build_world(workspace)
    first = prepare_payout_run(workspace=workspace, period=world.period)
    execute_payout_run(run=first)
    second = prepare_payout_run(workspace=workspace, period=world.period)
    statement = world.statements["stripe_a"]
    with pytest.raises(IntegrityError), transaction.atomic():
        items_of(second).filter(statement=statement).update(status="pending")
    assert items_of(first).get(statement=statement).status == "pending"


def test_a_cancelled_run_frees_its_statements_for_a_new_run(workspace):
    from reporting.payouts.runs.services import cancel_payout_run

    world = build_world(workspace)
    first = prepare_payout_run(workspace=workspace, period=world.period)
    cancel_payout_run(run=first)
    item = _items(prepare_payout_run(workspace=workspace, period=world.period))[world.partners["stripe_a"].pk]
    assert item.status == "pending"
