"""The attribution rules, on facts alone (no database)."""

from datetime import UTC, datetime, timedelta

from attribution.engine import (
    ClickFact,
    CodeFact,
    CustomerFacts,
    PartnerFact,
    ProgramFact,
    ReferralFact,
    RuleFact,
    decide,
    select_rule,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
PROGRAM = ProgramFact(pk=1, window_days=30, model="last_click")
FIRST_CLICK_PROGRAM = ProgramFact(pk=1, window_days=30, model="first_click")
ANNA = PartnerFact(
    pk=10,
    program_id=1,
    name="Anna",
    email="anna@partner.test",
    status="active",
    earns=True,
    login_ip_hashes=frozenset({"ip-of-anna"}),
)
BEN = PartnerFact(pk=20, program_id=1, name="Ben", email="ben@partner.test", status="active", earns=True)
SUSPENDED = PartnerFact(pk=30, program_id=1, name="Sam", email="sam@partner.test", status="suspended", earns=False)
PARTNERS = {p.pk: p for p in (ANNA, BEN, SUSPENDED)}


def click(pk, partner, days_ago, *, visitor="v1", ip="ip-1", bot=False):
    return ClickFact(
        pk=pk,
        click_id=f"c{pk}",
        partner_id=partner.pk,
        program_id=1,
        clicked_at=NOW - timedelta(days=days_ago),
        ip_hash=ip,
        visitor_hash=visitor,
        is_bot=bot,
    )


def run(facts, program=PROGRAM):
    return decide(facts, partners=PARTNERS, programs={1: program})


def test_click_within_the_window_credits_its_partner():
    decision = run(CustomerFacts(occurred_at=NOW, click_id="c1", click=click(1, ANNA, 29)))
    assert (decision.partner_id, decision.source, decision.click_pk) == (ANNA.pk, "link", 1)
    assert decision.explanation["window_days"] == 30


def test_click_older_than_the_window_credits_nobody():
    decision = run(CustomerFacts(occurred_at=NOW, click_id="c1", click=click(1, ANNA, 31)))
    assert decision.partner_id is None
    assert decision.reason_code == "click_outside_window"
    assert "30-day" in decision.reason


def test_last_click_model_credits_the_latest_of_the_visitors_clicks():
    facts = CustomerFacts(
        occurred_at=NOW, click_id="c1", click=click(1, ANNA, 10), other_clicks=(click(2, BEN, 2), click(3, ANNA, 20))
    )
    assert run(facts).partner_id == BEN.pk


def test_first_click_model_credits_the_earliest_click_in_the_window():
    facts = CustomerFacts(
        occurred_at=NOW, click_id="c1", click=click(1, ANNA, 2), other_clicks=(click(2, BEN, 20), click(3, ANNA, 45))
    )
    decision = run(facts, FIRST_CLICK_PROGRAM)
    assert (decision.partner_id, decision.click_pk) == (BEN.pk, 2)


def test_a_code_outranks_a_click():
    facts = CustomerFacts(
        occurred_at=NOW,
        click_id="c1",
        click=click(1, ANNA, 1),
        code_text="BEN10",
        code=CodeFact(pk=5, code="BEN10", partner_id=BEN.pk, program_id=1),
    )
    decision = run(facts)
    assert (decision.partner_id, decision.source, decision.code_pk) == (BEN.pk, "code", 5)


def test_an_approved_deal_registration_outranks_a_click_and_a_code():
    deal = ReferralFact(
        pk=7,
        partner_id=BEN.pk,
        program_id=1,
        source="deal_registration",
        deal_registration_id=3,
        protected_until=NOW + timedelta(days=10),
    )
    facts = CustomerFacts(
        occurred_at=NOW,
        deal=deal,
        click_id="c1",
        click=click(1, ANNA, 1),
        code_text="A",
        code=CodeFact(pk=5, code="A", partner_id=ANNA.pk, program_id=1),
    )
    decision = run(facts)
    assert (decision.partner_id, decision.source, decision.referral_id) == (BEN.pk, "deal_registration", 7)


def test_an_expired_deal_registration_no_longer_outranks_a_click():
    deal = ReferralFact(
        pk=7,
        partner_id=BEN.pk,
        program_id=1,
        source="deal_registration",
        deal_registration_id=3,
        protected_until=NOW - timedelta(days=1),
    )
    decision = run(CustomerFacts(occurred_at=NOW, deal=deal, click_id="c1", click=click(1, ANNA, 1)))
    assert decision.partner_id == ANNA.pk


def test_an_existing_referral_keeps_its_partner_whatever_the_new_click():
    existing = ReferralFact(pk=8, partner_id=BEN.pk, program_id=1, source="link")
    decision = run(CustomerFacts(occurred_at=NOW, existing=existing, click_id="c1", click=click(1, ANNA, 0)))
    assert (decision.partner_id, decision.source, decision.referral_id) == (BEN.pk, "existing", 8)


def test_a_suspended_partner_earns_nothing_new():
    decision = run(CustomerFacts(occurred_at=NOW, click_id="c1", click=click(1, SUSPENDED, 1)))
    assert decision.partner_id is None
    assert decision.reason_code == "partner_not_earning"
    assert "suspended" in decision.reason


def test_a_suspended_partners_existing_customer_earns_nothing_new():
    existing = ReferralFact(pk=8, partner_id=SUSPENDED.pk, program_id=1, source="link")
    assert run(CustomerFacts(occurred_at=NOW, existing=existing)).reason_code == "partner_not_earning"


def test_the_partners_own_email_is_flagged_as_self_referral():
    decision = run(
        CustomerFacts(occurred_at=NOW, customer_email="ANNA@partner.test", click_id="c1", click=click(1, ANNA, 1))
    )
    assert decision.partner_id == ANNA.pk
    assert decision.self_referral and "email" in decision.self_referral


def test_a_click_from_the_partners_own_login_address_is_flagged_as_self_referral():
    decision = run(CustomerFacts(occurred_at=NOW, click_id="c1", click=click(1, ANNA, 1, ip="ip-of-anna")))
    assert decision.self_referral and "portal logins" in decision.self_referral


def test_a_bot_flagged_click_the_lead_names_is_credited_and_says_why():
    facts = CustomerFacts(occurred_at=NOW, click_id="c1", click=click(1, ANNA, 1, bot=True))
    decision = run(facts)
    assert decision.partner_id == ANNA.pk
    assert any("looks automated" in note for note in decision.explanation["notes"])


def test_bot_clicks_the_lead_does_not_name_never_win():
    facts = CustomerFacts(
        occurred_at=NOW, click_id="c1", click=click(1, ANNA, 5), other_clicks=(click(2, BEN, 1, bot=True),)
    )
    assert run(facts).partner_id == ANNA.pk


def test_an_unknown_code_falls_back_to_the_click_and_says_so():
    facts = CustomerFacts(occurred_at=NOW, code_text="NOPE", click_id="c1", click=click(1, ANNA, 1))
    decision = run(facts)
    assert decision.partner_id == ANNA.pk
    assert any("NOPE" in note for note in decision.explanation["notes"])


def test_nothing_to_go_on_is_unattributed_with_a_reason():
    decision = run(CustomerFacts(occurred_at=NOW))
    assert decision.partner_id is None and decision.reason_code == "no_partner"


def test_a_partner_of_another_workspace_is_unknown():
    assert run(CustomerFacts(occurred_at=NOW, partner_id=999)).reason_code == "unknown_partner"


def test_the_latest_rule_version_in_effect_applies_and_a_group_override_wins():
    rules = [
        RuleFact(pk=1, program_id=1, group_id=None, rule_key="a", version=1, effective_from=NOW - timedelta(days=100)),
        RuleFact(pk=2, program_id=1, group_id=None, rule_key="a", version=2, effective_from=NOW - timedelta(days=10)),
        RuleFact(pk=3, program_id=1, group_id=None, rule_key="a", version=3, effective_from=NOW + timedelta(days=10)),
        RuleFact(pk=4, program_id=1, group_id=9, rule_key="g", version=1, effective_from=NOW - timedelta(days=50)),
    ]
    assert select_rule(rules, program_id=1, group_id=None, at=NOW).pk == 2
    assert select_rule(rules, program_id=1, group_id=None, at=NOW - timedelta(days=20)).pk == 1
    assert select_rule(rules, program_id=1, group_id=9, at=NOW).pk == 4
    assert select_rule(rules, program_id=1, group_id=None, at=NOW - timedelta(days=200)) is None
