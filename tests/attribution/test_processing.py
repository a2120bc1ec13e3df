"""Leads and sales through the inbox: referrals, conversions, commissions and ledger entries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from attribution.ledger import partner_balance, verify_chain
from attribution.models import Commission, Conversion, InboundEvent, LedgerEntry, RewardRule
from attribution.processing import MAX_ATTEMPTS, faults, process_events
from attribution.rules import DEFAULT_RULE_NAME
from partners.models import Partner
from referrals.models import Referral
from tests.attribution.conftest import JAN, click_of, lead, sale, send
from tests.attribution.factories import RewardRuleFactory
from tests.referrals.factories import DealRegistrationFactory, ReferralCodeFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def event(workspace, event_id):
    return InboundEvent.objects.for_workspace(workspace).get(event_id=event_id)


def test_a_lead_with_a_click_makes_the_customer_the_clicks_partners_referral(workspace, anna):
    click = click_of(anna, at=JAN - timedelta(days=3))
    send(workspace, lead("l1", "cus_1", click_id=click.click_id, customer_email="Buyer@Example.org"))
    referral = Referral.objects.for_workspace(workspace).get(customer_external_id="cus_1")
    assert (referral.partner, referral.source, referral.click, referral.customer_email) == (
        anna,
        Referral.Source.LINK,
        click,
        "buyer@example.org",
    )
    assert event(workspace, "l1").status == InboundEvent.Status.ATTRIBUTED


def test_a_lead_with_a_code_credits_the_codes_partner(workspace, anna):
    ReferralCodeFactory(workspace=workspace, partner=anna, program=anna.program, code="ANNA10")
    send(workspace, lead("l1", "cus_1", code="anna10"))
    assert Referral.objects.for_workspace(workspace).get().source == Referral.Source.CODE


def test_a_lead_reward_is_paid_once_when_the_rule_has_one(workspace, anna):
    RewardRuleFactory(workspace=workspace, program=anna.program, lead_amount=Decimal("5"))
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), lead("l2", "cus_1", partner_id=anna.pk))
    commission = Commission.objects.for_workspace(workspace).get()
    assert (commission.kind, commission.amount, commission.status) == ("lead", Decimal("5.00"), "pending")
    assert event(workspace, "l2").reason_code == "existing_referral"


def test_a_sale_of_a_referral_earns_the_default_twenty_percent(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "49.99"))
    commission = Commission.objects.for_workspace(workspace).get()
    assert (commission.partner, commission.amount, commission.currency) == (anna, Decimal("10.00"), "USD")
    assert commission.reward_rule.name == DEFAULT_RULE_NAME
    assert commission.hold_until == JAN + timedelta(days=anna.program.hold_days)
    assert commission.explanation["attribution"]["source"] == "existing"
    assert partner_balance(workspace=workspace, partner=anna) == {"USD": Decimal("10.00")}


def test_a_program_without_rules_gets_the_default_rule_on_first_use(workspace, anna):
    assert not RewardRule.objects.for_workspace(workspace).exists()
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1"))
    rule = RewardRule.objects.for_workspace(workspace).get()
    assert (rule.sale_value, rule.duration, rule.duration_months) == (Decimal("20"), "months", 12)


def test_a_sale_with_a_click_from_an_unknown_customer_makes_the_referral_itself(workspace, anna):
    click = click_of(anna)
    send(workspace, sale("s1", "cus_new", click_id=click.click_id))
    commission = Commission.objects.for_workspace(workspace).get()
    assert commission.explanation["attribution"]["click"] == click.click_id
    assert Referral.objects.for_workspace(workspace).get().stage == Referral.Stage.CUSTOMER


def test_a_sale_of_a_customer_nobody_referred_is_unattributed_with_the_reason(workspace, anna):
    send(workspace, sale("s1", "cus_unknown"))
    assert (event(workspace, "s1").status, event(workspace, "s1").reason_code) == ("unattributed", "no_partner")
    assert not Conversion.objects.for_workspace(workspace).exists()


def test_a_later_sale_stays_with_the_first_partner_despite_another_click(workspace, anna, ben):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk))
    send(workspace, sale("s1", "cus_1", click_id=click_of(ben).click_id))
    assert Commission.objects.for_workspace(workspace).get().partner == anna


def test_sales_after_the_rules_twelve_months_are_attributed_but_earn_nothing(workspace, anna):
    send(
        workspace,
        lead("l1", "cus_1", partner_id=anna.pk),
        sale("s1", "cus_1"),
        sale("s2", "cus_1", occurred_at=JAN + timedelta(days=400)),
    )
    assert Commission.objects.for_workspace(workspace).count() == 1
    late = event(workspace, "s2")
    assert (late.status, late.reason_code) == ("attributed", "no_commission")
    assert "12-month" in late.reason


def test_the_same_event_id_twice_is_one_sale(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1"))
    send(workspace, sale("s1", "cus_1"))
    assert Conversion.objects.for_workspace(workspace).count() == 1
    assert LedgerEntry.objects.for_workspace(workspace).count() == 1


def test_the_same_sale_by_two_routes_counts_once(workspace, anna):
    send(
        workspace,
        lead("l1", "cus_1", partner_id=anna.pk),
        sale("stripe:evt_1", "cus_1", processor_ref="stripe:pi_1"),
        sale("hubspot:deal:1", "cus_1", processor_ref="stripe:pi_1"),
    )
    assert Conversion.objects.for_workspace(workspace).count() == 1
    assert event(workspace, "hubspot:deal:1").status == InboundEvent.Status.DUPLICATE


def test_a_suspended_partners_customer_is_unattributed(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk))
    Partner.objects.filter(pk=anna.pk).update(status=Partner.Status.SUSPENDED)
    send(workspace, sale("s1", "cus_1"))
    assert (event(workspace, "s1").status, event(workspace, "s1").reason_code) == (
        "unattributed",
        "partner_not_earning",
    )
    assert not Commission.objects.for_workspace(workspace).exists()


def test_a_known_customers_next_sale_follows_its_partner_being_suspended_and_back(workspace, anna):
    # A known customer's decision is reused from one set to the next (sales._DECISIONS): it must
    # still change the moment the partner's standing does.
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1"))
    assert event(workspace, "s1").status == "attributed"
    Partner.objects.filter(pk=anna.pk).update(status=Partner.Status.SUSPENDED)
    send(workspace, sale("s2", "cus_1"))
    assert (event(workspace, "s2").status, event(workspace, "s2").reason_code) == (
        "unattributed",
        "partner_not_earning",
    )
    Partner.objects.filter(pk=anna.pk).update(status=Partner.Status.ACTIVE)
    send(workspace, sale("s3", "cus_1"))
    assert event(workspace, "s3").status == "attributed"
    assert Commission.objects.for_workspace(workspace).count() == 2


def test_a_self_referral_is_recorded_as_a_rejected_commission_and_never_paid(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk, customer_email="anna@partner.test"), sale("s1", "cus_1"))
    commission = Commission.objects.for_workspace(workspace).get()
    assert commission.status == Commission.Status.REJECTED
    assert commission.rejection_reason.startswith("self-referral")
    assert partner_balance(workspace=workspace, partner=anna) == {}


def test_an_approved_deal_registration_wins_the_customer_who_arrives_later(workspace, anna, ben):
    deal = DealRegistrationFactory(
        workspace=workspace, partner=ben, program=ben.program, status="approved", contact_email="cto@bigcorp.example"
    )
    ReferralFactory(
        workspace=workspace,
        partner=ben,
        program=ben.program,
        customer_external_id="",
        customer_email="cto@bigcorp.example",
        customer_domain="bigcorp.example",
        source=Referral.Source.DEAL_REGISTRATION,
        deal_registration=deal,
        protected_until=JAN + timedelta(days=30),
    )
    send(workspace, lead("l1", "cus_big", click_id=click_of(anna).click_id, customer_email="buyer@bigcorp.example"))
    referral = Referral.objects.for_workspace(workspace).get(customer_external_id="cus_big")
    assert (referral.partner, referral.deal_registration) == (ben, deal)


def test_a_commission_keeps_the_rule_version_in_effect_on_the_sale_date(workspace, anna):
    old = RewardRuleFactory(workspace=workspace, program=anna.program, sale_value=Decimal("10"))
    RewardRuleFactory(
        workspace=workspace,
        program=anna.program,
        rule_key=old.rule_key,
        version=2,
        sale_value=Decimal("30"),
        effective_from=JAN + timedelta(days=1),
    )
    send(
        workspace,
        lead("l1", "cus_1", partner_id=anna.pk),
        sale("s1", "cus_1"),
        sale("s2", "cus_1", occurred_at=JAN + timedelta(days=2)),
    )
    got = {
        c.conversion.event_id: (c.amount, c.reward_rule.version) for c in Commission.objects.for_workspace(workspace)
    }
    assert got == {"s1": (Decimal("10.00"), 1), "s2": (Decimal("30.00"), 2)}


def test_one_failing_event_does_not_hold_up_the_others(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk))

    def explode_on_bad(state):
        if any(e.event_id == "bad" for e in state.events):
            raise RuntimeError("boom")

    with faults.at("sales_recorded", explode_on_bad):
        send(workspace, sale("good", "cus_1"), sale("bad", "cus_1"))
    assert event(workspace, "good").status == "attributed"
    bad = event(workspace, "bad")
    assert (bad.status, bad.reason_code, bad.attempts) == ("received", "error", 1)


def test_an_event_failing_every_attempt_is_marked_failed_with_the_error(workspace, anna):
    def explode(state):
        raise RuntimeError("boom")

    with faults.at("programs_loaded", explode):
        send(workspace, sale("s1", "cus_1"))
        pk = event(workspace, "s1").pk
        for _ in range(MAX_ATTEMPTS - 1):
            process_events(workspace_id=workspace.pk, event_ids=[pk])
    failed = event(workspace, "s1")
    assert failed.status == "failed" and "boom" in failed.reason


def test_a_set_failing_after_any_step_leaves_nothing_of_it_behind(workspace, anna):
    from attribution.inbox import accept_events

    send(workspace, lead("l1", "cus_1", partner_id=anna.pk))
    accept_events(workspace=workspace, events=[sale("s1", "cus_1")], source="api")
    pk = event(workspace, "s1").pk
    for step in faults.STEPS:
        InboundEvent.objects.filter(pk=pk).update(attempts=0)  # so that no step is its last attempt

        def explode(state, step=step):
            raise RuntimeError(f"failed after {step}")

        with faults.at(step, explode):
            process_events(workspace_id=workspace.pk, event_ids=[pk])
        failed = event(workspace, "s1")
        assert (failed.status, failed.reason_code) == ("received", "error"), step
        assert f"failed after {step}" in failed.reason
        assert not Conversion.objects.for_workspace(workspace).exists()
        assert not Commission.objects.for_workspace(workspace).exists()
        assert not LedgerEntry.objects.for_workspace(workspace).exists()


def test_processing_the_same_events_again_changes_nothing(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1"))
    ids = list(InboundEvent.objects.for_workspace(workspace).values_list("id", flat=True))
    assert process_events(workspace_id=workspace.pk, event_ids=ids).events == 0
    assert LedgerEntry.objects.for_workspace(workspace).count() == 1


def test_the_ledger_chain_stays_intact_through_processing(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), *[sale(f"s{i}", "cus_1") for i in range(5)])
    checked, broken = verify_chain(workspace)
    assert (checked, broken) == (5, None)


def test_a_sale_waits_while_an_earlier_event_of_its_new_customer_is_being_processed(workspace, anna):
    from attribution.inbox import accept_events

    accept_events(
        workspace=workspace, events=[lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1")], source="api"
    )
    lead_pk, sale_pk = (event(workspace, e).pk for e in ("l1", "s1"))
    # Another worker holds the lead: this set has only the sale.
    held = process_events(workspace_id=workspace.pk, event_ids=[sale_pk])
    assert (event(workspace, "s1").status, event(workspace, "s1").reason_code) == ("received", "waiting_for_customer")
    assert held.retry_soon == [sale_pk]
    settled = process_events(workspace_id=workspace.pk, event_ids=[lead_pk])
    assert settled.woken == [sale_pk]
    process_events(workspace_id=workspace.pk, event_ids=settled.woken, wait=True)
    assert Commission.objects.for_workspace(workspace).get().partner == anna


def test_a_sale_whose_new_customer_another_set_settles_meanwhile_goes_to_their_partner(workspace, anna):
    from attribution.inbox import accept_events

    accept_events(
        workspace=workspace, events=[lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1")], source="api"
    )
    lead_pk, sale_pk = (event(workspace, e).pk for e in ("l1", "s1"))
    settled = []

    def lead_settled_meanwhile(state):
        # Another worker's set settles the lead after this set read the customer's referrals.
        if not settled:
            settled.append(lead_pk)
            process_events(workspace_id=workspace.pk, event_ids=[lead_pk])

    with faults.at("referrals_loaded", lead_settled_meanwhile):
        process_events(workspace_id=workspace.pk, event_ids=[sale_pk])
    assert settled == [lead_pk]
    assert event(workspace, "s1").status == "attributed"
    assert Commission.objects.for_workspace(workspace).get().partner == anna


def test_a_fault_hook_names_a_step_of_the_set():
    with pytest.raises(ValueError, match="not a step"):
        with faults.at("sales_done", lambda state: None):
            pass


def test_a_backfilled_lead_counts_on_the_day_it_happened_not_the_day_it_arrived(workspace, anna):
    click = click_of(anna, at=JAN - timedelta(days=3))
    send(workspace, lead("l1", "cus_1", click_id=click.click_id, occurred_at=JAN))
    assert Referral.objects.for_workspace(workspace).get(customer_external_id="cus_1").created_at == JAN


@pytest.mark.django_db(transaction=True)
def test_a_set_in_its_own_transaction_checks_keys_at_once_and_commits(workspace, anna):
    # Outside a test transaction the set sets its own transaction up (immediate keys, no wait for the disk).
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), sale("s1", "cus_1", "49.99"), sale("s2", "cus_1", "10.00"))
    assert sorted(Commission.objects.for_workspace(workspace).values_list("amount", flat=True)) == [
        Decimal("2.00"),
        Decimal("10.00"),
    ]
    assert verify_chain(workspace) == (2, None)
