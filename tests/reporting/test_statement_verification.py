"""/verify/<code>: anyone holding a statement checks it against the records, without signing in."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from attribution.ledger import verify_chain
from attribution.models import LedgerEntry
from reporting.payouts.codes import CODE_ALPHABET, normalize_code
from reporting.payouts.verification import check_chain_up_to
from tests.reporting.payout_helpers import earn
from tests.reporting.verification_helpers import issue_statement, tamper_with_entry

ADDRESS = "203.0.113.7"


@pytest.fixture
def visitor():
    """A stranger's browser: no session, its own address (the miss counter is per address)."""
    cache.delete(f"verify-miss:{ADDRESS}")
    yield Client(REMOTE_ADDR=ADDRESS)
    cache.delete(f"verify-miss:{ADDRESS}")


@pytest.fixture
def statement(workspace):
    return issue_statement(workspace, name="Jane Doe")


def page(client, code):
    return client.get(reverse("verify_statement", args=[code]))


def test_every_issued_statement_gets_a_short_code(statement):
    assert len(statement.verification_code) == 10
    assert set(statement.verification_code) <= set(CODE_ALPHABET)


def test_two_statements_never_share_a_code(workspace, other_workspace):
    mine, theirs = issue_statement(workspace), issue_statement(other_workspace)
    assert mine.verification_code != theirs.verification_code


def test_a_code_is_read_as_a_person_types_it():
    assert normalize_code("7k3m-9qx2 pd") == "7K3M9QX2PD"
    assert normalize_code("O1IL0abcde") == "0111" + "0ABCDE"
    assert normalize_code("too-short") is None
    assert normalize_code("UUUUUUUUUU") is None  # U is not in the alphabet


def test_the_page_shows_the_figures_and_says_verified(visitor, statement):
    response = page(visitor, statement.verification_code)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Verified" in html and "Does not verify" not in html
    assert "J••• D•••" in html
    assert "1,080.00 USD" in html
    assert "Up to 30 Sep 2026" in html
    assert f"Entry #{statement.ledger_sequence}" in html
    assert statement.ledger_hash in html
    assert statement.number in html


def test_the_page_shows_nothing_of_the_partner_a_stranger_could_use(visitor, workspace):
    statement = issue_statement(workspace, name="Jane Doe", company="Bolt Widgets")

    html = page(visitor, statement.verification_code).content.decode()

    assert "B••• W•••" in html
    for private in ("Jane", "Doe", "Bolt", "Widgets", statement.partner_email, statement.payout_details or "IBAN"):
        assert private not in html


def test_a_code_typed_in_lower_case_with_a_dash_finds_the_statement(visitor, statement):
    code = statement.verification_code.lower()
    assert page(visitor, f"{code[:5]}-{code[5:]}").status_code == 200


def test_a_tampered_ledger_entry_makes_the_page_say_it_does_not_verify(visitor, statement):
    entry = LedgerEntry.objects.for_workspace(statement.workspace).order_by("sequence").first()
    tamper_with_entry(entry, amount="9999")

    response = page(visitor, statement.verification_code)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Does not verify" in html and ">Verified<" not in html
    assert f"entry #{entry.sequence} was changed after it was written" in html


def test_entries_written_after_the_statement_do_not_change_its_answer(visitor, statement):
    later = earn(statement.partner, "5.00")
    tamper_with_entry(
        LedgerEntry.objects.get(workspace=statement.workspace, reference=f"commission:{later.pk}"), amount="1"
    )

    assert "Verified" in page(visitor, statement.verification_code).content.decode()


def test_an_unknown_code_is_a_404_page(visitor, statement):
    response = page(visitor, "ZZZZZZZZZZ" if statement.verification_code != "ZZZZZZZZZZ" else "YYYYYYYYYY")

    assert response.status_code == 404
    assert "Statement not found" in response.content.decode()


def test_the_page_needs_no_login_and_leaves_no_cookie(visitor, statement):
    response = page(visitor, statement.verification_code)

    assert response.status_code == 200 and not response.cookies
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_program_asking_for_json_gets_the_same_figures(visitor, statement):
    response = visitor.get(
        reverse("verify_statement", args=[statement.verification_code]), HTTP_ACCEPT="application/json"
    )

    body = response.json()
    assert body["verified"] is True and body["problem"] is None
    assert body["partner"] == "J••• D•••"
    assert (body["total"], body["currency"], body["number"]) == ("1080.00", "USD", statement.number)
    assert (body["ledger_sequence"], body["ledger_hash"]) == (statement.ledger_sequence, statement.ledger_hash)
    assert (body["period_start"], body["period_end"]) == (None, "2026-09-30")


def test_an_address_that_keeps_guessing_codes_is_slowed_down(visitor, statement, settings):
    settings.VERIFY_MISSES_ALLOWED = 3
    for _ in range(3):
        assert page(visitor, "ZZZZZZZZZ1").status_code == 404

    assert page(visitor, "ZZZZZZZZZ2").status_code == 429
    assert page(visitor, statement.verification_code).status_code == 429
    assert page(Client(REMOTE_ADDR="198.51.100.1"), statement.verification_code).status_code == 200


def test_the_check_agrees_with_verify_ledger_on_an_intact_and_an_edited_chain(statement):
    assert check_chain_up_to(statement).verifies
    assert verify_chain(statement.workspace)[1] is None

    entry = LedgerEntry.objects.for_workspace(statement.workspace).order_by("sequence")[1]
    tamper_with_entry(entry, amount="-0.01")

    check = check_chain_up_to(statement)
    assert not check.verifies
    assert verify_chain(statement.workspace)[1].sequence == entry.sequence
    assert f"#{entry.sequence}" in check.problem


def test_the_api_gives_an_integration_the_code_and_where_to_check_it(api_client, visitor, statement):
    body = api_client.get(f"/api/v1/statements/{statement.pk}").json()

    assert body["verification"]["code"] == statement.verification_code
    assert body["verification"]["url"].endswith(f"/verify/{statement.verification_code}")
    assert page(visitor, body["verification"]["code"]).status_code == 200
