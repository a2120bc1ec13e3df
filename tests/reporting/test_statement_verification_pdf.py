"""The statement PDF says how to check it, and `manage.py verify_statement` holds a PDF against the records."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader, PdfWriter

from attribution.models import LedgerEntry
from reporting.payouts.pdf import html_to_pdf, render_statement_pdf, statement_html
from reporting.payouts.verification import STATEMENT_FACTS_NAME, statement_facts
from tests.reporting.verification_helpers import issue_statement, tamper_with_entry


@pytest.fixture
def statement(workspace):
    return issue_statement(workspace, name="Jane Doe")


@pytest.fixture
def pdf(statement):
    return render_statement_pdf(statement)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def verify(tmp_path, data: bytes) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(data)
    out = io.StringIO()
    call_command("verify_statement", str(path), stdout=out)
    return out.getvalue()


def test_the_pdf_carries_the_code_and_where_to_check_it(statement, pdf):
    text = text_of(pdf)

    assert "Check this statement" in text
    assert f"Verification code {statement.verification_code}" in text
    assert f"http://testserver/verify/{statement.verification_code}" in text or (
        f"/verify/{statement.verification_code}" in text
    )


def test_the_ledger_fingerprint_is_labelled_in_the_check_box_not_in_the_reading_flow(statement, pdf):
    text = text_of(pdf)

    assert f"Fingerprint {statement.ledger_hash}" in text
    assert text.count(statement.ledger_hash) == 1
    assert "Ledger entry #" not in text and "hash" not in text.lower()


def test_the_pdf_attaches_its_figures_for_machines(statement, pdf):
    attached = json.loads(PdfReader(io.BytesIO(pdf)).attachments[STATEMENT_FACTS_NAME][0])

    assert attached == statement_facts(statement)
    assert (attached["total"], attached["currency"]) == ("1080.00", "USD")


def test_verify_statement_says_matches_for_a_real_pdf(tmp_path, statement, pdf):
    out = verify(tmp_path, pdf)

    assert "matches" in out and statement.number in out and "1,080.00 USD" in out


def test_verify_statement_names_an_edited_total(tmp_path, statement):
    edited = copy.copy(statement)
    edited.total = Decimal("9080.00")

    with pytest.raises(CommandError, match=r"does not match: total: .*9080.00 USD, the records say 1,080.00 USD"):
        verify(tmp_path, render_statement_pdf(edited))


def test_verify_statement_catches_a_total_edited_on_the_page_only(tmp_path, statement):
    edited = copy.copy(statement)
    edited.total = Decimal("1980.00")
    facts = json.dumps(statement_facts(statement)).encode()  # the attachment left as issued
    forged = html_to_pdf(statement_html(edited), attachments={STATEMENT_FACTS_NAME: facts})

    with pytest.raises(CommandError, match=r"total: the PDF \(text\) says 1,980.00 USD"):
        verify(tmp_path, forged)


def test_verify_statement_catches_an_edited_attachment(tmp_path, statement, pdf):
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf)))
    facts = dict(statement_facts(statement), ledger_sequence=statement.ledger_sequence + 1)
    writer.add_attachment(STATEMENT_FACTS_NAME, json.dumps(facts).encode())
    forged = io.BytesIO()
    writer.write(forged)

    with pytest.raises(CommandError, match=r"ledger entry: the PDF \(attachment\) says #"):
        verify(tmp_path, forged.getvalue())


def test_verify_statement_fails_when_the_ledger_behind_it_was_changed(tmp_path, statement, pdf):
    entry = LedgerEntry.objects.for_workspace(statement.workspace).order_by("sequence").first()
    tamper_with_entry(entry, amount="9999")

    with pytest.raises(CommandError, match=rf"ledger no longer verifies: entry #{entry.sequence} was changed"):
        verify(tmp_path, pdf)


def test_verify_statement_refuses_a_file_that_is_not_a_statement(tmp_path):
    with pytest.raises(CommandError, match="cannot be read as a PDF"):
        verify(tmp_path, b"hello")
    with pytest.raises(CommandError, match="no verification code"):
        verify(tmp_path, html_to_pdf("<p>An invoice</p>"))


def test_verify_statement_names_a_code_no_statement_has(tmp_path, statement, pdf):
    statement.__class__.objects.filter(pk=statement.pk).update(verification_code="0000000000")

    with pytest.raises(CommandError, match=f"no statement has the verification code {statement.verification_code}"):
        verify(tmp_path, pdf)
