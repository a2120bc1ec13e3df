"""The reward said plainly, written from the reward rules and the program's payout minimum."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail

from attribution.models import RewardRule
from attribution.reward_terms import reward_sentence
from partners.models import Partner, PartnerUser
from partners.reward_text import reward_sentence as partners_reward_sentence
from partners.services import invite_partner
from tests.attribution.factories import RewardRuleFactory
from tests.conftest import client_for
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


# --- Where a partner decides ---------------------------------------------------------------


@pytest.fixture
def open_program(program):
    months_rule(program)
    program.public_applications = True
    program.save(update_fields=["public_applications"])
    return program


def test_the_apply_page_states_the_reward(client, workspace, open_program):
    page = client.get(f"/apply/{workspace.slug}/{open_program.slug}/").content.decode()
    assert "20% of every payment for 12 months, paid monthly once you pass 50.00 USD" in page


def test_the_apply_page_asks_to_accept_terms_only_when_there_are_terms(client, workspace, open_program):
    page = client.get(f"/apply/{workspace.slug}/{open_program.slug}/").content.decode()
    assert "I accept the program terms" not in page


def test_the_apply_page_shows_the_terms_openly_when_there_are_some(client, workspace, open_program):
    open_program.terms = "Play fair."
    open_program.save(update_fields=["terms"])
    page = client.get(f"/apply/{workspace.slug}/{open_program.slug}/").content.decode()
    assert "Play fair." in page and "<details" not in page


def test_one_can_apply_to_a_program_without_terms(client, workspace, open_program):
    client.post(f"/apply/{workspace.slug}/{open_program.slug}/", {"name": "Morgan Lee", "email": "morgan@example.org"})
    assert Partner.objects.for_workspace(workspace).filter(email="morgan@example.org").exists()


def test_the_invitation_email_states_the_reward(workspace, program, owner, django_capture_on_commit_callbacks):
    months_rule(program)
    with django_capture_on_commit_callbacks(execute=True):
        invite_partner(workspace=workspace, program=program, email="sam@example.org", name="Sam", invited_by=owner)
    message = mail.outbox[-1]
    assert "20% of every payment for 12 months" in message.body
    assert "20% of every payment for 12 months" in message.alternatives[0][0]


def test_the_portal_home_terms_card_states_the_partners_reward(workspace, partner_user):
    partner = PartnerUser.objects.get(user=partner_user).partner
    months_rule(partner.program, sale_value=Decimal("15"))
    page = client_for(partner_user).get(f"/portal/{workspace.slug}/").content.decode()
    assert "15% of every payment for 12 months" in page


def test_the_portal_profile_states_the_partners_reward(workspace, partner_user):
    partner = PartnerUser.objects.get(user=partner_user).partner
    months_rule(partner.program, sale_value=Decimal("15"))
    page = client_for(partner_user).get(f"/portal/{workspace.slug}/profile/").content.decode()
    assert "15% of every payment for 12 months" in page
