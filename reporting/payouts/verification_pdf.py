"""Reading a statement PDF back and holding it against the records: `manage.py verify_statement <file.pdf>`.

A statement PDF says its figures twice: in the text a person reads, and in statement.json, attached for
machines. Both are read; each figure found must be the records' figure, so an edited total is caught
whether it was edited on the page, in the attachment, or in both.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.currency import format_money
from reporting.payouts.models import Statement
from reporting.payouts.verification import (
    STATEMENT_FACTS_NAME,
    ChainCheck,
    check_chain_up_to,
    same_amount,
    statement_for_code,
)

_CODE = re.compile(r"/verify/([0-9A-Z]{10})\b|Verification code\s+([0-9A-Z]{10})\b")
_NUMBER = re.compile(r"Commission statement\s+(\S+)")
_TOTAL = re.compile(r"Total payable\s+(-?[\d,]+(?:\.\d+)?)\s+([A-Z]{3})")
_ENTRY = re.compile(r"entry #(\d+)")
_FINGERPRINT = re.compile(r"Fingerprint\s+([0-9a-f]{64})")


class UnreadablePdf(ValueError):
    """The file is not a PDF this command can read, or not a statement."""


@dataclass
class PdfFigures:
    """What a statement PDF says, by where it says it (`text` or `attachment`)."""

    code: str = ""
    numbers: list[tuple[str, str]] = field(default_factory=list)
    totals: list[tuple[str, str, str]] = field(default_factory=list)  # (where, amount, currency)
    sequences: list[tuple[str, int]] = field(default_factory=list)
    hashes: list[tuple[str, str]] = field(default_factory=list)


def read_statement_pdf(data: bytes) -> PdfFigures:
    """The figures a statement PDF carries: its attached statement.json and the text of its first and last
    pages (the "Check this statement" box and the totals)."""
    from pypdf import PdfReader  # only this command reads PDFs
    from pypdf.errors import PyPdfError

    # pypdf logs what it tolerates in a damaged file; what matters is said in the command's answer.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = list(reader.pages)
        text = "\n".join(page.extract_text() or "" for page in {id(p): p for p in (pages[0], pages[-1])}.values())
        attached = reader.attachments.get(STATEMENT_FACTS_NAME) or []
    except (PyPdfError, IndexError, ValueError, KeyError, TypeError) as error:
        raise UnreadablePdf(f"this file cannot be read as a PDF ({error})") from error
    figures = PdfFigures()
    if attached:
        try:
            facts = json.loads(attached[0])
        except ValueError as error:
            raise UnreadablePdf(f"its attached {STATEMENT_FACTS_NAME} is not valid JSON") from error
        figures.code = str(facts.get("verification_code") or "")
        figures.numbers.append(("attachment", str(facts.get("number", ""))))
        figures.totals.append(("attachment", str(facts.get("total", "")), str(facts.get("currency", ""))))
        figures.sequences.append(("attachment", int(facts.get("ledger_sequence") or 0)))
        figures.hashes.append(("attachment", str(facts.get("ledger_hash", ""))))
    codes = {a or b for a, b in _CODE.findall(text)}
    if figures.code and codes - {figures.code}:
        raise UnreadablePdf("its text and its attachment name different verification codes")
    if not figures.code:
        if len(codes) != 1:
            raise UnreadablePdf("no verification code was found in it: it is not a Tandem statement, or predates codes")
        figures.code = codes.pop()
    figures.numbers += [("text", n) for n in _NUMBER.findall(text)]
    figures.totals += [("text", amount, currency) for amount, currency in _TOTAL.findall(text)]
    figures.sequences += [("text", int(n)) for n in _ENTRY.findall(text)]
    figures.hashes += [("text", h) for h in _FINGERPRINT.findall(text)]
    return figures


@dataclass(frozen=True)
class StatementCheck:
    statement: Statement | None
    differences: list[str]
    chain: ChainCheck | None = None

    @property
    def matches(self) -> bool:
        return self.statement is not None and not self.differences


def _differences(figures: PdfFigures, statement: Statement) -> Iterator[str]:
    """Each figure of the PDF that is not the records', in reading order: number, total, ledger entry."""
    for where, number in figures.numbers:
        if number != statement.number:
            yield f"statement number: the PDF ({where}) says {number}, the records say {statement.number}"
    records_total = format_money(statement.total, statement.currency)
    for where, amount, currency in figures.totals:
        if currency != statement.currency:
            yield f"currency: the PDF ({where}) says {currency}, the records say {statement.currency}"
        elif not same_amount(amount, statement.total, statement.currency):
            yield f"total: the PDF ({where}) says {amount} {currency}, the records say {records_total}"
    for where, sequence in figures.sequences:
        if sequence != statement.ledger_sequence:
            yield (f"ledger entry: the PDF ({where}) says #{sequence}, the records say #{statement.ledger_sequence}")
    for where, digest in figures.hashes:
        if digest != statement.ledger_hash:
            yield f"fingerprint: the PDF ({where}) says {digest}, the records say {statement.ledger_hash}"
    if not figures.totals:
        yield "total: the PDF shows no total payable"


def check_statement_pdf(data: bytes) -> StatementCheck:
    """Hold a statement PDF against the records and the ledger as they are now."""
    figures = read_statement_pdf(data)
    statement = statement_for_code(figures.code)
    if statement is None:
        return StatementCheck(None, [f"no statement has the verification code {figures.code}"])
    differences = list(_differences(figures, statement))
    if differences:
        return StatementCheck(statement, differences)
    chain = check_chain_up_to(statement)
    if not chain.verifies:
        differences.append(f"the ledger no longer verifies: {chain.problem}")
    return StatementCheck(statement, differences, chain)
