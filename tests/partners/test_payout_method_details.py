"""Payout method fields as typed: what is refused, naming the field, and how they are masked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from partners.payout_methods import clean_payout_fields, details_of


def _errors(method_type, **fields):
    with pytest.raises(ValidationError) as caught:
        clean_payout_fields(method_type, fields)
    return caught.value.message_dict


def test_an_iban_with_a_wrong_check_digit_is_refused_naming_the_iban():
    errors = _errors("sepa", account_holder="Paula Park", iban="DE88370400440532013000", bic="COBADEFFXXX")
    assert list(errors) == ["iban"]
    assert "check digits" in errors["iban"][0]


def test_a_valid_iban_is_kept_without_spaces_and_the_bic_found_from_it():
    fields = clean_payout_fields("sepa", {"account_holder": "Paula Park", "iban": "de89 3704 0044 0532 0130 00"})
    assert fields == {"account_holder": "Paula Park", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}


def test_a_malformed_bic_is_refused_naming_the_bic():
    errors = _errors("sepa", account_holder="Paula", iban="DE89370400440532013000", bic="XX1")
    assert list(errors) == ["bic"]


def test_a_stripe_account_must_start_with_acct():
    assert list(_errors("stripe_connect", account_id="ba_123")) == ["account_id"]
    assert clean_payout_fields("stripe_connect", {"account_id": "acct_1Nv0FGQ9RKHgCVdK"}) == {
        "account_id": "acct_1Nv0FGQ9RKHgCVdK"
    }


def test_a_paypal_email_must_be_an_email():
    assert list(_errors("paypal", email="not-an-email")) == ["email"]


def test_manual_instructions_may_not_be_empty_or_hold_control_characters():
    assert list(_errors("manual", instructions="  ")) == ["instructions"]
    assert list(_errors("manual", instructions="Wire\x00")) == ["instructions"]


def test_an_unknown_method_is_refused_naming_the_type():
    assert list(_errors("bitcoin")) == ["type"]


def test_details_are_masked_and_labelled_in_plain_words():
    sepa = details_of("sepa", {"account_holder": "Paula", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"})
    assert sepa.masked["iban"] == "DE89 •••• •••• 3000"
    assert sepa.label == "SEPA transfer to DE89 •••• 3000"
    paypal = details_of("paypal", {"email": "jo@example.com"})
    assert (paypal.masked["email"], paypal.label) == ("j•••@example.com", "PayPal to j•••@example.com")
    stripe = details_of("stripe_connect", {"account_id": "acct_1Nv0FGQ9RKHgCVdK"})
    assert stripe.masked["account_id"] == "acct_•••CVdK"


def test_manual_instructions_show_only_the_last_four_digits():
    manual = details_of("manual", {"instructions": "Wire to 1234 5678 9012, ask jo@bank.test"})
    assert manual.masked["instructions"] == "Wire to •••• •••• 9012, ask j•••@bank.test"
