from datetime import UTC, datetime
from decimal import Decimal

import pytest

from attribution.rewards import Award, NoAward, RuleTerms, refund_reversal, round_money, sale_reward

DEFAULT = RuleTerms(
    name="Default", sale_type="percent", sale_value=Decimal("20"), duration="months", duration_months=12
)
JAN = datetime(2026, 1, 15, tzinfo=UTC)


def reward(terms=DEFAULT, amount="100.00", occurred=JAN, first=JAN, is_first=True, earned="0", currency="USD"):
    return sale_reward(
        terms,
        sale_amount=Decimal(amount),
        currency=currency,
        occurred_at=occurred,
        customer_first_sale_at=first,
        is_first_sale=is_first,
        earned_for_customer=Decimal(earned),
    )


def test_default_rule_pays_twenty_percent_to_the_cent():
    result = reward(amount="49.99")
    assert isinstance(result, Award)
    assert result.amount == Decimal("10.00")  # 9.998 rounds half up to 10.00


def test_default_rule_still_pays_eleven_months_after_the_first_sale():
    assert isinstance(reward(occurred=datetime(2026, 12, 14, tzinfo=UTC), is_first=False), Award)


def test_default_rule_stops_twelve_months_after_the_first_sale():
    result = reward(occurred=datetime(2027, 1, 15, tzinfo=UTC), is_first=False)
    assert isinstance(result, NoAward) and "12-month" in result.reason


def test_one_time_rule_pays_only_the_first_sale():
    terms = RuleTerms(name="Once", sale_type="flat", sale_value=Decimal("50"), duration="one_time")
    assert reward(terms).amount == Decimal("50.00")
    assert isinstance(reward(terms, is_first=False), NoAward)


def test_cap_per_customer_limits_the_last_commission():
    terms = RuleTerms(
        name="Capped",
        sale_type="percent",
        sale_value=Decimal("10"),
        duration="lifetime",
        cap_per_customer=Decimal("25"),
    )
    result = reward(terms, amount="100", earned="20")
    assert result.amount == Decimal("5.00") and "capped" in result.explanation
    assert isinstance(reward(terms, amount="100", earned="25"), NoAward)


def test_sale_below_minimum_earns_nothing():
    terms = RuleTerms(
        name="Min", sale_type="percent", sale_value=Decimal("10"), duration="lifetime", min_sale_amount=Decimal("50")
    )
    assert isinstance(reward(terms, amount="49.99"), NoAward)


def test_zero_decimal_currency_rounds_to_whole_units():
    assert round_money(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert reward(amount="999", currency="JPY").amount == Decimal("200")


def test_partial_refund_reverses_in_proportion():
    assert refund_reversal(
        commission_amount=Decimal("20.00"),
        sale_amount=Decimal("100.00"),
        refund_amount=Decimal("25.00"),
        already_reversed=Decimal("0"),
        currency="USD",
    ) == Decimal("5.00")


def test_reversals_never_exceed_the_commission():
    assert refund_reversal(
        commission_amount=Decimal("20.00"),
        sale_amount=Decimal("100.00"),
        refund_amount=Decimal("100.00"),
        already_reversed=Decimal("15.00"),
        currency="USD",
    ) == Decimal("5.00")
    assert refund_reversal(
        commission_amount=Decimal("20.00"),
        sale_amount=Decimal("100.00"),
        refund_amount=Decimal("500.00"),
        already_reversed=Decimal("0"),
        currency="USD",
    ) == Decimal("20.00")


def test_explanation_names_rule_rate_and_amounts():
    text = reward(amount="80.00").explanation
    assert "Default" in text and "20% of each sale" in text and "12 months" in text and "16.00 USD" in text


@pytest.mark.django_db
def test_a_reward_value_too_large_for_its_column_is_a_422_naming_it(api_client, program):
    response = api_client.post(
        f"/api/v1/programs/{program.pk}/rewards",
        {"name": "Huge", "sale_type": "flat", "sale_value": "93126689553192063"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "sale_value" in response.json()["error"]["fields"]
