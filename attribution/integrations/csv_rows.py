"""Reading a CSV import's file: the fields a kind of import maps, the header and the lines, and
what each line means: an inbound event, or the problems that keep it out (for the preview, the
job and the error download alike). Row numbers count the header as row 1, as a spreadsheet shows
them. The import's lifecycle (upload, start, the chunked job, resume) is csv_import.py's.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from attribution.inbox import IncomingEvent
from attribution.integrations.models import CsvImport
from attribution.rewards import round_money
from core.csv_lines import NOT_UTF8, Line, open_text, printable, read_lines
from core.iso import CURRENCIES
from core.text import unusable_character

PREVIEW_ROWS = 20
_FUTURE_SLACK = timedelta(days=1)
# ASCII digits only: \d alone would take "١٢" or full-width digits as twelve.
_PLAIN_AMOUNT = re.compile(r"\d+(\.\d+)?", re.ASCII)
_GROUPED_AMOUNT = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?", re.ASCII)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    required: bool
    synonyms: tuple[str, ...]
    help: str = ""


_CUSTOMER = FieldSpec(
    "customer_external_id",
    "Customer id",
    True,
    ("customerexternalid", "customerid", "customer", "externalid", "clientid", "accountid", "userid"),
    "Your id for the customer, the same one your API calls send",
)
_EMAIL_FIELD = FieldSpec("customer_email", "Customer email", False, ("customeremail", "email", "emailaddress"))
_DATE = FieldSpec(
    "occurred_at",
    "Date",
    False,
    (
        "occurredat",
        "date",
        "createdat",
        "timestamp",
        "time",
        "saledate",
        "orderdate",
        "signupdate",
        "purchasedate",
        "datetime",
    ),
    "ISO 8601, e.g. 2024-05-31 or 2024-05-31T14:00:00Z; empty means now",
)
_CLICK = FieldSpec("click_id", "Click id (tclid)", False, ("tclid", "clickid"))
_CODE = FieldSpec("code", "Referral code", False, ("code", "referralcode", "coupon", "couponcode", "promocode"))
_PARTNER = FieldSpec("partner_id", "Partner id", False, ("partnerid", "partner"), "Tandem's partner id")
_EVENT = FieldSpec(
    "event_id",
    "Event id",
    False,
    ("eventid", "orderid", "transactionid", "saleid", "invoiceid"),
    "Optional: your id for the sale, so the API and the file count it once",
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    CsvImport.Kind.LEADS: (_CUSTOMER, _EMAIL_FIELD, _CLICK, _CODE, _PARTNER, _DATE),
    CsvImport.Kind.SALES: (
        _CUSTOMER,
        FieldSpec(
            "amount",
            "Amount",
            True,
            ("amount", "saleamount", "total", "revenue", "value", "price", "net"),
            "A decimal number such as 1234.50",
        ),
        FieldSpec("currency", "Currency", True, ("currency", "currencycode", "cur", "ccy"), "ISO 4217, e.g. USD"),
        _DATE,
        _EVENT,
        _EMAIL_FIELD,
        _CLICK,
        _CODE,
    ),
}


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class PreviewRow:
    number: int
    values: list[str]
    errors: list[RowError] = field(default_factory=list)


def _normalize_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """Tandem field -> column, by the column names a spreadsheet usually has; each column used once."""
    by_norm = {_normalize_header(h): h for h in reversed(headers)}  # the first column wins a tie
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for spec in FIELDS[kind]:
        for synonym in (_normalize_header(spec.name), *spec.synonyms):
            column = by_norm.get(synonym)
            if column and column not in used:
                mapping[spec.name] = column
                used.add(column)
                break
    return mapping


def clean_mapping(kind: str, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Keep the mapped fields that name a column; raise with every missing required field."""
    cleaned = {
        name: column
        for name, column in mapping.items()
        if column and column in headers and name in {f.name for f in FIELDS[kind]}
    }
    missing = {
        spec.name: [f"Choose the column that holds the {spec.label.lower()}."]
        for spec in FIELDS[kind]
        if spec.required and spec.name not in cleaned
    }
    if missing:
        raise ValidationError(missing)
    return cleaned


# --- Reading the file -------------------------------------------------------------------------------


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_header(binary: IO[bytes]) -> tuple[str, list[str]]:
    text = open_text(binary)
    try:
        sample = text.read(64 * 1024)
    finally:
        text.detach()
    if not sample.strip():
        raise ValidationError({"file": ["The file is empty."]})
    if NOT_UTF8.search(sample):
        raise ValidationError({"file": ["The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."]})
    delimiter = _sniff_delimiter(sample)
    try:
        header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        raise ValidationError({"file": [f"The first row, which names the columns, cannot be read: {exc}."]}) from exc
    headers = [h.strip() for h in header]
    if not any(headers):
        raise ValidationError({"file": ["The first row must name the columns."]})
    if len(set(headers)) != len(headers) or "" in headers:
        raise ValidationError({"file": ["Every column needs a name of its own in the first row."]})
    for name in headers:
        if problem := unusable_character(name):
            raise ValidationError({"file": [f"The column name “{printable(name)}”: {problem}"]})
    return delimiter, headers


def iter_lines(csv_import: CsvImport) -> Iterator[Line]:
    with csv_import.file.open("rb") as binary:
        yield from read_lines(iter(open_text(binary)), delimiter=csv_import.delimiter, headers=csv_import.headers)


def count_lines(csv_import: CsvImport) -> int:
    return sum(1 for _ in iter_lines(csv_import))


# --- One row -------------------------------------------------------------------------------------------


def parse_amount(raw: str) -> Decimal:
    text = raw.strip()
    negative = text.startswith("-")
    digits = text.lstrip("-").strip()
    if not (_PLAIN_AMOUNT.fullmatch(digits) or _GROUPED_AMOUNT.fullmatch(digits)):
        raise ValueError(f"“{raw}” is not an amount; write it like 1234.50.")
    if negative:
        raise ValueError("Sales cannot be negative; report refunds separately.")
    try:
        return Decimal(digits.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the patterns above admit only decimals
        raise ValueError(f"“{raw}” is not an amount.") from exc


def parse_when(raw: str, *, now: datetime) -> datetime:
    text = raw.strip().replace("/", "-")
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"“{raw}” is not a date; use YYYY-MM-DD or ISO 8601 such as 2024-05-31T14:00:00Z.") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # the file names no zone: Tandem's clock is UTC
    if when > now + _FUTURE_SLACK:
        raise ValueError(f"{raw} is in the future.")
    return when


def parse_row(
    *,
    kind: str,
    mapping: dict[str, str],
    number: int,
    values: dict[str, str],
    file_sha256: str,
    now: datetime,
) -> tuple[IncomingEvent | None, list[RowError]]:
    """The event one row means, or the reasons it cannot be imported (all of them, for the preview)."""
    errors: list[RowError] = []

    def value(name: str) -> str:
        column = mapping.get(name)
        return values.get(column, "").strip() if column else ""

    def fail(name: str, message: str) -> None:
        errors.append(RowError(number, mapping.get(name, name), message))

    customer = value("customer_external_id")
    if not customer:
        fail("customer_external_id", "The customer id is missing.")
    elif len(customer) > 200:
        fail("customer_external_id", "The customer id is longer than 200 characters.")
    email = value("customer_email").lower() or None
    if email and not _EMAIL.match(email):
        fail("customer_email", f"“{email}” is not an email address.")
    occurred_at = None
    if value("occurred_at"):
        try:
            occurred_at = parse_when(value("occurred_at"), now=now)
        except ValueError as exc:
            fail("occurred_at", str(exc))
    partner_id = None
    if value("partner_id"):
        if value("partner_id").isdigit():
            partner_id = int(value("partner_id"))
        else:
            fail("partner_id", f"“{value('partner_id')}” is not a partner id (a number).")
    click_id, code = value("click_id") or None, value("code") or None
    amount = currency = None
    if kind == CsvImport.Kind.SALES:
        currency = value("currency").upper()
        if not currency:
            fail("currency", "The currency is missing.")
        elif currency not in CURRENCIES:
            fail("currency", f"“{value('currency')}” is not an ISO 4217 currency code, such as USD or EUR.")
        if not value("amount"):
            fail("amount", "The amount is missing.")
        else:
            try:
                amount = parse_amount(value("amount"))
            except ValueError as exc:
                fail("amount", str(exc))
            else:
                if currency in CURRENCIES and round_money(amount, currency) != amount:
                    fail("amount", f"{value('amount')} has more decimal places than {currency} has.")
    elif not (click_id or code or value("partner_id")):
        fail("click_id", "A lead needs a click id, a referral code or a partner id.")
    if errors:
        return None, errors
    own_id = value("event_id")
    event = IncomingEvent(
        kind="lead" if kind == CsvImport.Kind.LEADS else "sale",
        event_id=own_id or f"csv:{file_sha256}:{number}",
        customer_external_id=customer,
        amount=amount,
        currency=currency or None,
        occurred_at=occurred_at,
        click_id=click_id,
        code=code,
        partner_id=partner_id,
        customer_email=email,
        sale_event_id=None,
        processor_ref=None,
        raw={"file_sha256": file_sha256, "row": number, "values": values},
    )
    # The inbox's own rules (lengths, email syntax, amount range) too, so a row it would refuse
    # is reported here rather than failing its whole chunk.
    for name, messages in event.problems().items():
        errors.extend(RowError(number, mapping.get(name, name), message) for message in messages)
    return (None, errors) if errors else (event, [])


def judge(
    csv_import: CsvImport, line: Line, *, mapping: dict[str, str] | None = None, now: datetime
) -> tuple[IncomingEvent | None, list[RowError]]:
    """The event a line means, or why it cannot be imported: the reading's problems first, since
    a line that was not read cleanly has no values worth judging."""
    if line.problems:
        return None, [RowError(line.number, column, message) for column, message in line.problems]
    return parse_row(
        kind=csv_import.kind,
        mapping=csv_import.mapping if mapping is None else mapping,
        number=line.number,
        values=line.values,
        file_sha256=csv_import.file_sha256,
        now=now,
    )


def preview(csv_import: CsvImport, mapping: dict[str, str], *, rows: int = PREVIEW_ROWS) -> list[PreviewRow]:
    now = timezone.now()
    out: list[PreviewRow] = []
    for line in iter_lines(csv_import):
        _, errors = judge(csv_import, line, mapping=mapping, now=now)
        out.append(PreviewRow(line.number, [printable(line.values[h]) for h in csv_import.headers], errors))
        if len(out) >= rows:
            break
    return out


def iter_errors(csv_import: CsvImport) -> Iterator[RowError]:
    """Every problem of the file under its saved mapping, found again by reading it: the job
    keeps only the first few, and a million-line file's problems are not worth a table."""
    now = timezone.now()
    for line in iter_lines(csv_import):
        yield from judge(csv_import, line, now=now)[1]
