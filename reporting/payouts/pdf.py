"""Statement PDFs (WeasyPrint), the zip of a period's PDFs, and the payout CSV for the bank."""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import segno
from django.core.files.base import ContentFile
from django.db.models import prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.branding import brand_of, logo_data_uri
from core.currency import plain_amount
from core.memory import gc_paused
from core.privacy import customer_for_partner, customer_for_staff
from core.spreadsheets import safe_cell
from reporting.payouts.models import Statement, StatementLine
from reporting.payouts.verification import STATEMENT_FACTS_NAME, statement_facts, verification_url

# WeasyPrint logs every layout step at INFO; a period close renders thousands of PDFs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def css_string(value: str) -> str:
    """A quoted CSS string, safe inside <style>: the page header and footer are CSS `content`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return mark_safe(f'"{escaped}"')  # noqa: S308 - escaped above for a CSS string in a <style> element


@dataclass(frozen=True)
class ShownLine:
    """A statement line as a person reads it: the customer by name (masked for the partner) and the sale's
    date, where the frozen line keeps the tenant's own ids (customer and event ids) for the books."""

    line: StatementLine
    customer: str
    customer_id: str
    description: str
    row_class: str = ""  # "back" for money taken back, "even" for every other row's stripe


_TAKEN_BACK = (StatementLine.Kind.REVERSAL, StatementLine.Kind.REJECTION)


_CUSTOMER_PATHS = ("commission__referral", "reversal__commission__referral", "reversal__refund")


def shown_lines(lines: Iterable[StatementLine], *, for_partner: bool) -> list[ShownLine]:
    """The lines with their customers loaded in a few queries (a close renders thousands of lines)."""
    lines = list(lines)
    prefetch_related_objects(lines, *_CUSTOMER_PATHS)
    name = customer_for_partner if for_partner else customer_for_staff
    shown = []
    for index, line in enumerate(lines):
        commission = line.commission or (line.reversal.commission if line.reversal else None)
        referral = commission.referral if commission is not None else None
        description = line.description
        if line.kind == StatementLine.Kind.REVERSAL and commission is not None:
            # The stored text names the refund by its event id; a person knows the sale by its date.
            before = description.partition(" (commission on ")[2]
            description = f"Refund on the sale of {commission.occurred_at:%d %b %Y}"
            if before:
                description += f" (commission on {before}"
        shown.append(
            ShownLine(
                line=line,
                customer=name(referral) if referral is not None else "",
                customer_id=referral.customer_external_id if referral is not None else "",
                description=description,
                row_class=_row_class(line, even=index % 2 == 1),
            )
        )
    return shown


def _row_class(line: StatementLine, *, even: bool) -> str:
    back = line.kind in _TAKEN_BACK or (line.kind == StatementLine.Kind.ADJUSTMENT and line.amount < 0)
    return " ".join(name for name, on in (("back", back), ("even", even)) if on)


def statement_context(statement: Statement, lines: Iterable[StatementLine] | None = None) -> dict[str, Any]:
    workspace = statement.workspace
    # The PDF is the partner's document (it is emailed to them): customers are masked in it.
    shown = shown_lines(lines if lines is not None else statement.lines.all(), for_partner=True)
    verify_url = verification_url(statement.verification_code)
    # Literal strings rather than CSS string-set/string(): the same text, and WeasyPrint lays out a
    # long statement about 15% faster without tracking named strings across pages.
    return {
        "statement": statement,
        "workspace": workspace,
        "period": statement.period,
        "lines": shown,
        "initial": (workspace.name[:1] or "T").upper(),
        # White label: the business's uploaded logo (inlined: the PDF is rendered offline) and colour.
        "logo_data_uri": logo_data_uri(workspace),
        "brand": brand_of(workspace),
        "generated_at": timezone.now(),
        "css_running_title": css_string(f"{workspace.name} · Statement {statement.number}"),
        "css_running_partner": css_string(statement.partner_name),
        # Every page says where to check it; the ledger's fingerprint stays in the "Check this statement" box.
        "css_running_check": css_string(f"Check this statement: {verify_url} · code {statement.verification_code}"),
        "verify_url": verify_url,
        "verify_qr": segno.make(verify_url, error="m").svg_data_uri(border=0, dark="#111827"),
    }


def statement_html(statement: Statement, lines: Iterable[StatementLine] | None = None) -> str:
    return render_to_string("reporting/pdf/statement.html", statement_context(statement, lines))


def render_statement_pdf(statement: Statement, lines: Iterable[StatementLine] | None = None) -> bytes:
    """The statement's PDF, its figures attached as statement.json for `manage.py verify_statement`."""
    facts = json.dumps(statement_facts(statement), indent=2).encode()
    return html_to_pdf(statement_html(statement, lines), attachments={STATEMENT_FACTS_NAME: facts})


def html_to_pdf(html: str, *, attachments: dict[str, bytes] | None = None) -> bytes:
    """A PDF of a self-contained HTML page (inline CSS, no external files).

    The cyclic garbage collector is paused meanwhile: layout builds hundreds of thousands of boxes
    and the collector's passes over them were a fifth of a 500-line statement's time. The cycles
    they leave are collected as usual once it runs again."""
    # Imported here: WeasyPrint loads Pango and fonts, which web requests without a PDF never need.
    from weasyprint import HTML, Attachment

    files = [Attachment(string=data, name=name, relationship="Data") for name, data in (attachments or {}).items()]
    with gc_paused():
        return HTML(string=html, base_url=None).write_pdf(attachments=files)


def statement_pdf_bytes(statement: Statement) -> bytes:
    """The statement's PDF, rendered once and kept: the statement is frozen, so is its PDF."""
    if statement.pdf:
        try:
            with statement.pdf.open("rb") as handle:
                return handle.read()
        except FileNotFoundError:
            pass  # the media volume lost it: render it again from the frozen lines
    data = render_statement_pdf(statement)
    statement.pdf.save(f"{statement.workspace.slug}-{statement.number}.pdf", ContentFile(data), save=False)
    Statement.objects.for_workspace(statement.workspace).filter(pk=statement.pk).update(pdf=statement.pdf.name)
    return data


class _Chunks(io.RawIOBase):
    """A write-only, unseekable sink; zipfile then writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def stream_statements_zip(statements: Iterable[Statement]) -> Iterator[bytes]:
    """A zip of one PDF per statement, yielded file by file so a big period never sits in memory."""
    sink = _Chunks()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for statement in statements:
            name = f"{statement.number}-{_safe(statement.partner_name)}.pdf"
            with archive.open(name, mode="w") as member:
                member.write(statement_pdf_bytes(statement))
            yield sink.take()
    yield sink.take()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60].strip("-") or "partner"


PAYOUT_CSV_HEADER = ["statement", "partner", "email", "method", "details", "amount", "currency", "status"]


def payout_csv(statements: Iterable[Statement]) -> str:
    """One row per statement for the bank or payout provider; amounts as plain decimals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYOUT_CSV_HEADER)
    for s in statements:
        writer.writerow(
            [
                s.number,
                safe_cell(s.partner_name),
                s.partner_email,
                s.payout_method_label,
                safe_cell(s.payout_details.replace("\r\n", "\n")),
                plain_amount(s.total, s.currency),
                s.currency,
                s.get_status_display(),
            ]
        )
    return out.getvalue()
