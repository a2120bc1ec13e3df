from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import date

import pytest

from reporting.payouts.pdf import payout_csv, statement_html, statement_pdf_bytes, stream_statements_zip
from reporting.payouts.statements import close_payout_period
from tests.partners.factories import PartnerFactory, with_payout_method
from tests.reporting.payout_helpers import earn, refund


@pytest.fixture
def statements(workspace):
    alpha = with_payout_method(
        PartnerFactory(workspace=workspace, name="Alpha Agency"),
        "sepa",
        account_holder="Alpha Agency",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
    )
    beta = with_payout_method(
        PartnerFactory(workspace=workspace, name="=Beta Blog"), "paypal", email="beta@pay.example"
    )
    first = earn(alpha, "1234.50", sale="6172.50")
    refund(first, "234.50", on="2026-09-25")
    earn(beta, "80.00")
    return close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements


def _text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode()


def test_a_statement_pdf_is_a_pdf_with_the_totals(statements):
    statement = next(s for s in statements if s.partner_name == "Alpha Agency")

    pdf = statement_pdf_bytes(statement)

    assert pdf.startswith(b"%PDF")
    text = _text(pdf) if shutil.which("pdftotext") else statement_html(statement)
    assert "1,000.00 USD" in text and "1,234.50" in text and "-234.50" in text
    assert statement.number in text and statement.ledger_hash[:20] in text


def test_the_pdf_is_rendered_once_and_kept(statements):
    statement = statements[0]
    first = statement_pdf_bytes(statement)
    statement.refresh_from_db()

    assert statement.pdf.name and statement_pdf_bytes(statement) == first


def test_the_zip_holds_one_pdf_per_statement(statements):
    data = b"".join(stream_statements_zip(statements))

    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert len(names) == len(statements) == 2
    assert all(archive.read(name).startswith(b"%PDF") for name in names)


def test_the_payout_csv_has_one_row_per_statement_with_method_details_and_amount(statements):
    rows = list(csv.DictReader(io.StringIO(payout_csv(statements))))

    assert sorted((r["partner"], r["method"], r["details"], r["amount"], r["currency"]) for r in rows) == [
        ("'=Beta Blog", "PayPal", "b•••@pay.example", "80.00", "USD"),  # a formula-looking cell is defused
        (
            "Alpha Agency",
            "SEPA bank transfer",
            "Alpha Agency\nIBAN DE89 •••• •••• 3000\nBIC COBADEFFXXX",
            "1000.00",
            "USD",
        ),
    ]


def test_a_workspace_name_with_quotes_and_markup_stays_text_in_the_page_header(workspace, statements):
    workspace.name = 'Acme "Best" </style><b>Co'
    workspace.save(update_fields=["name"])
    statement = statements[0]
    statement.workspace.refresh_from_db()

    style = statement_html(statement).split("<style>", 1)[1].split("</style>", 1)[0]

    assert '"Acme \\"Best\\" \\3c /style>\\3c b>Co · Statement' in style
