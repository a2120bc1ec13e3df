"""Fraud scenarios: each signal caught on a commission made through the inbox, and its sentence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attribution.fraud.review import flag_partner
from attribution.fraud.settings import update_fraud_settings
from attribution.models import Commission, PartnerVisit
from tests.attribution.conftest import JAN, click_of, refund, sale, send
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import ClickFactory

pytestmark = pytest.mark.django_db


def commission_of(workspace, event_id: str) -> Commission:
    return Commission.objects.for_workspace(workspace).get(conversion__event_id=event_id)


def signals(commission: Commission) -> dict[str, str]:
    return {r["signal"]: r["text"] for r in commission.risk_reasons}


def clicked_sale(partner, event_id: str, *, email: str = "", after: timedelta = timedelta(days=2), **click):
    clicked = click_of(partner, at=JAN - after, **click)
    send(partner.workspace, sale(event_id, f"cus_{event_id}", click_id=clicked.click_id, customer_email=email or None))
    return commission_of(partner.workspace, event_id), clicked


def test_a_clean_sale_scores_nothing_and_stays_pending(workspace, anna):
    commission, _ = clicked_sale(anna, "s1", email="buyer@example.org")
    assert (commission.risk_score, commission.risk_reasons, commission.status) == (0, [], Commission.Status.PENDING)


def test_the_partners_own_mailbox_with_a_tag_is_a_self_referral_held_for_review(workspace, anna):
    commission, _ = clicked_sale(anna, "s1", email="Anna+deal@partner.test")
    assert commission.risk_score == 100
    assert commission.status == Commission.Status.IN_REVIEW
    assert signals(commission)["self_referral"] == (
        "The customer's email (a•••@partner.test) is the partner's own mailbox with a +tag: a self-referral."
    )


def test_gmail_dots_and_googlemail_are_the_same_mailbox(workspace, program):
    jane = PartnerFactory(workspace=workspace, program=program, email="jane.doe@gmail.com")
    commission, _ = clicked_sale(jane, "s1", email="janedoe@googlemail.com")
    assert commission.risk_score == 100
    assert "Gmail address written with dots" in signals(commission)["self_referral"]


def test_a_customer_on_the_partners_company_domain_is_noted_but_not_held(workspace, anna):
    commission, _ = clicked_sale(anna, "s1", email="bob@partner.test")
    assert signals(commission)["company_domain"] == (
        "The customer's email (b•••@partner.test) is on the partner's own company domain."
    )
    assert (commission.risk_score, commission.status) == (40, Commission.Status.PENDING)


def test_a_free_mail_domain_shared_with_the_partner_is_not_a_company_domain(workspace, program):
    gina = PartnerFactory(workspace=workspace, program=program, email="gina@gmail.com")
    commission, _ = clicked_sale(gina, "s1", email="someone@gmail.com")
    assert "company_domain" not in signals(commission)


def test_the_partners_own_device_making_the_click_is_held(workspace, anna):
    clicked = click_of(anna, at=JAN - timedelta(days=1))
    PartnerVisit.objects.create(workspace=workspace, partner=anna, visitor_hash=clicked.visitor_hash, ip_hash="x")
    send(workspace, sale("s1", "cus_1", click_id=clicked.click_id))
    commission = commission_of(workspace, "s1")
    assert "own_visitor" in signals(commission)
    assert commission.status == Commission.Status.IN_REVIEW


def test_a_sale_seconds_after_the_click_is_caught(workspace, anna):
    commission, _ = clicked_sale(anna, "s1", after=timedelta(seconds=8))
    assert signals(commission)["fast_sale"].startswith("The sale came 8 seconds after the click")


def test_many_clicks_from_one_visitor_are_caught(workspace, anna):
    clicked = click_of(anna, at=JAN - timedelta(hours=5))
    for n in range(24):
        ClickFactory(
            link=clicked.link,
            partner=anna,
            workspace=workspace,
            visitor_hash=clicked.visitor_hash,
            clicked_at=JAN - timedelta(hours=4, minutes=n),
        )
    send(workspace, sale("s1", "cus_1", click_id=clicked.click_id))
    assert "clicked the same link 25 times" in signals(commission_of(workspace, "s1"))["visitor_clicks"]


def test_a_burst_of_clicks_from_one_network_is_caught(workspace, anna):
    clicked = click_of(anna, at=JAN - timedelta(hours=5), ip_hash="net-1")
    for n in range(55):
        ClickFactory(
            link=clicked.link,
            partner=anna,
            workspace=workspace,
            ip_hash="net-1",
            clicked_at=JAN - timedelta(hours=5, seconds=n * 30),
        )
    send(workspace, sale("s1", "cus_1", click_id=clicked.click_id))
    assert signals(commission_of(workspace, "s1"))["network_burst"].startswith("56 clicks on the partner's links")


def test_a_disposable_email_is_caught(workspace, anna):
    commission, _ = clicked_sale(anna, "s1", email="quick@mailinator.com")
    assert (
        signals(commission)["disposable_email"]
        == "The customer signed up with a throwaway address (q•••@mailinator.com)."
    )


def test_a_partner_whose_sales_are_often_refunded_is_caught(workspace, anna):
    for n in range(6):
        clicked = click_of(anna, at=JAN - timedelta(days=12))
        at = JAN - timedelta(days=10 - n)
        send(workspace, sale(f"old{n}", f"cus_old{n}", click_id=clicked.click_id, occurred_at=at))
        if n % 2 == 0:
            send(workspace, refund(f"r{n}", f"old{n}", occurred_at=at + timedelta(hours=1)))
    commission, _ = clicked_sale(anna, "s1")
    assert signals(commission)["refund_rate"].startswith("43 % of the partner's sales over the last 30 days")


def test_a_visitor_who_also_clicked_another_partners_link_is_caught(workspace, anna, ben):
    clicked = click_of(anna, at=JAN - timedelta(hours=2))
    click_of(ben, at=JAN - timedelta(hours=3), visitor_hash=clicked.visitor_hash)
    send(workspace, sale("s1", "cus_1", click_id=clicked.click_id))
    assert signals(commission_of(workspace, "s1"))["shared_visitor"] == (
        "The visitor behind the winning click also clicked links of Ben that day."
    )


def test_a_spike_against_the_partners_own_history_is_caught(workspace, anna):
    events = []
    for day in range(1, 29):
        clicked = click_of(anna, at=JAN - timedelta(days=day + 1))
        events.append(sale(f"h{day}", f"cus_h{day}", click_id=clicked.click_id, occurred_at=JAN - timedelta(days=day)))
    for n in range(14):
        clicked = click_of(anna, at=JAN - timedelta(days=3))
        events.append(sale(f"t{n}", f"cus_t{n}", click_id=clicked.click_id, occurred_at=JAN + timedelta(minutes=n)))
    send(workspace, *events)
    assert "conversion_spike" not in signals(commission_of(workspace, "h5"))
    spike = signals(commission_of(workspace, "t13"))["conversion_spike"]
    assert spike.startswith("The partner made 14 sales that day against a usual 1 a day")


def test_a_flagged_partners_new_commissions_are_all_held(workspace, anna, owner):
    flag_partner(workspace=workspace, partner=anna, reason="Chargebacks", by=owner)
    commission, _ = clicked_sale(anna, "s1", email="buyer@example.org")
    assert (commission.risk_score, commission.status) == (0, Commission.Status.IN_REVIEW)
    assert signals(commission)["flagged_partner"] == "The partner is under review."


def test_the_programs_threshold_and_weights_decide_what_is_held(workspace, anna, program, owner):
    update_fraud_settings(
        workspace=workspace,
        program=program,
        review_threshold=50,
        weights={"company_domain": 55},
        thresholds={},
        by=owner,
    )
    commission, _ = clicked_sale(anna, "s1", email="bob@partner.test")
    assert (commission.risk_score, commission.status) == (55, Commission.Status.IN_REVIEW)


def test_two_partners_paid_to_the_same_bank_account_are_caught(workspace, anna, ben, owner):
    from partners.payout_methods.services import set_payout_method

    iban = "DE89370400440532013000"
    set_payout_method(
        partner=anna,
        method_type="sepa",
        fields={"account_holder": "Anna", "iban": iban, "bic": "COBADEFFXXX"},
        by=owner,
        notify=False,
    )
    set_payout_method(
        partner=ben,
        method_type="sepa",
        fields={"account_holder": "Ben", "iban": iban.lower(), "bic": "COBADEFFXXX"},
        by=owner,
        notify=False,
    )
    commission, _ = clicked_sale(anna, "s1")
    assert signals(commission)["shared_payout"] == "The partner is paid to the same account as Ben."
