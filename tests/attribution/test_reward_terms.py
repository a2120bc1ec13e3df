"""The reward said plainly, written from the reward rules and the program's payout minimum."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from attribution.models import RewardRule
from attribution.reward_terms import reward_sentence
from partners.reward_text import reward_sentence as partners_reward_sentence
from tests.attribution.factories import RewardRuleFactory
from tests.partners.factories import PartnerGroupFactory, ProgramFactory


@pytest.fixture
def program(workspace):
    return ProgramFactory(workspace=workspace, currency="USD", minimum_payout=Decimal("50"))


def months_rule(program, **fields):
    values = {
        "workspace": program.workspace,
        "program": program,
        "sale_type": RewardRule.SaleType.PERCENT,
        "sale_value": Decimal("20"),
        "duration": RewardRule.Duration.MONTHS,
        "duration_months": 12,
    }
    return RewardRuleFactory(**(values | fields))


def test_a_percent_rule_for_some_months_reads_as_one_sentence(program):
    months_rule(program)
    assert reward_sentence(program) == "20% of every payment for 12 months, paid monthly once you pass 50.00 USD"


def test_a_program_without_a_minimum_payout_is_simply_paid_monthly(program):
    months_rule(program)
    program.minimum_payout = Decimal("0")
    assert reward_sentence(program).endswith("for 12 months, paid monthly")


def test_a_program_without_rules_states_the_default_reward(program):
    assert reward_sentence(program).startswith("20% of every payment for 12 months")


def test_a_groups_override_is_what_its_partners_are_told(program):
    months_rule(program)
    gold = PartnerGroupFactory(workspace=program.workspace, name="Gold")
    months_rule(program, group=gold, sale_value=Decimal("30"), duration=RewardRule.Duration.LIFETIME)
    assert reward_sentence(program, group=gold).startswith("30% of every payment for as long as the customer pays")


def test_partners_outside_the_group_are_told_the_programs_reward(program):
    months_rule(program)
    gold = PartnerGroupFactory(workspace=program.workspace, name="Gold")
    months_rule(program, group=gold, sale_value=Decimal("30"))
    assert reward_sentence(program).startswith("20% ")


def test_a_flat_first_sale_reward_with_a_lead_bonus_names_both(program):
    months_rule(
        program,
        sale_type=RewardRule.SaleType.FLAT,
        sale_value=Decimal("100"),
        duration=RewardRule.Duration.ONE_TIME,
        lead_amount=Decimal("5"),
    )
    assert reward_sentence(program).startswith(
        "5.00 USD for each new customer you refer, plus 100.00 USD for the first payment of each customer you refer"
    )


def test_a_cap_per_customer_is_stated(program):
    months_rule(program, cap_per_customer=Decimal("500"))
    assert "up to 500.00 USD per customer" in reward_sentence(program)


def test_a_rule_version_that_starts_later_is_not_stated_yet(program):
    months_rule(program)
    months_rule(program, sale_value=Decimal("5"), version=2, effective_from=datetime(2099, 1, 1, tzinfo=UTC))
    assert reward_sentence(program).startswith("20% ")


def test_partners_pages_get_the_same_sentence_through_their_registry(program):
    months_rule(program)
    assert partners_reward_sentence(program) == reward_sentence(program)
