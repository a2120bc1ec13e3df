"""Money is written with its currency's own decimals, on every page, by one function."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.currency import CURRENCIES, format_money, minor_units, plain_amount, round_money
from tests.attribution.factories import CommissionFactory


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("1234.5", "USD", "1,234.50 USD"),
        ("1234.5", "JPY", "1,235 JPY"),
        ("1234.5", "KWD", "1,234.500 KWD"),
        ("-0.5", "EUR", "-0.50 EUR"),
        ("1234.5", "HUF", "1,234.50 HUF"),  # ISO 4217's two decimals, though CLDR shows none
    ],
)
def test_an_amount_is_written_with_its_currencys_decimals(amount, currency, written):
    assert format_money(Decimal(amount), currency) == written


def test_a_headline_figure_can_drop_the_decimals():
    assert format_money(Decimal("12345.67"), "EUR", whole=True) == "12,346 EUR"


def test_nothing_is_written_as_a_dash():
    assert format_money(None, "USD") == "—"


def test_minor_units_follow_iso_4217():
    assert (minor_units("usd"), minor_units("JPY"), minor_units("BHD"), minor_units("IQD")) == (2, 0, 3, 3)


def test_rounding_is_half_up_to_the_minor_unit():
    assert round_money(Decimal("2.345"), "USD") == Decimal("2.35")
    assert round_money(Decimal("1.5"), "JPY") == Decimal("2")


def test_a_file_amount_has_no_grouping():
    assert plain_amount(Decimal("1234.5"), "KWD") == "1234.500"


def test_the_currency_list_holds_money_and_leaves_out_metals_and_funds():
    assert {"USD", "EUR", "JPY", "XCG"} <= CURRENCIES
    # Precious metals, the testing code, funds and "no currency" are codes in ISO 4217 but not money.
    assert {"XAU", "XTS", "USN", "CHE", "XXX"}.isdisjoint(CURRENCIES)


@pytest.mark.django_db
def test_the_commissions_page_writes_yen_without_decimals(manager_client, workspace):
    CommissionFactory(workspace=workspace, amount=Decimal("1500"), currency="JPY")
    page = manager_client.get(f"/w/{workspace.slug}/commissions/").content.decode()
    assert "1,500 JPY" in page
    assert "1,500.00" not in page
