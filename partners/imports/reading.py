"""Reading a CSV file of partners into rows, and what is wrong with each row, in words a manager
acts on. Nothing here writes: the preview shows this before anything is imported."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.iso import COUNTRY_CODES, COUNTRY_NAMES
from core.text import unusable_character

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS = ("email", "name", "company", "country", "group", "external_id")
# Headings people write for the same column, lower-cased without spaces, dashes or underscores.
ALIASES = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "name": "name",
    "fullname": "name",
    "partner": "name",
    "partnername": "name",
    "company": "company",
    "organisation": "company",
    "organization": "company",
    "country": "country",
    "countrycode": "country",
    "group": "group",
    "tier": "group",
    "externalid": "external_id",
    "id": "external_id",
}
LIMITS = {"name": 120, "company": 120, "group": 80, "external_id": 120, "email": 254}
_COUNTRY_BY_NAME = {name.lower(): code for code, name in COUNTRY_NAMES.items()}


class FileProblem(ValueError):
    """The file as a whole cannot be read (not CSV, too big, no email column); the message says why."""


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("The file is not text. Save it from your spreadsheet as CSV (UTF-8) and upload it again.")


def _heading(raw: str) -> str | None:
    key = "".join(ch for ch in raw.strip().lower() if ch.isalnum())
    return ALIASES.get(key)


def _country(value: str) -> tuple[str, str | None]:
    """An ISO code from a code or an English name, or the error to show."""
    if not value:
        return "", None
    if value.upper() in COUNTRY_CODES:
        return value.upper(), None
    code = _COUNTRY_BY_NAME.get(value.lower())
    if code:
        return code, None
    return value, f"“{value}” is not a country we know; use a two-letter code such as US, DE or GB."


def read_partner_rows(data: bytes) -> list[dict[str, Any]]:
    """The file's rows with their `line` number (as a spreadsheet counts, the heading is line 1) and
    their `errors` (empty when the row can be imported). Raises FileProblem when the file cannot be read."""
    if len(data) > MAX_BYTES:
        raise FileProblem(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files.")
    text = _decode(data)
    if "\x00" in text:
        raise FileProblem("The file holds NUL characters, so it is not a CSV file. Save it as CSV and try again.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("The file is empty.") from None
    except csv.Error as exc:
        raise FileProblem(f"The file is not valid CSV: {exc}.") from exc
    columns = [_heading(h) for h in header]
    if "email" not in columns:
        raise FileProblem(
            "The first line must name the columns, with at least “email” (and ideally “name”, “company”, "
            "“country”, “group”). Found: " + (", ".join(h for h in header if h.strip()) or "nothing") + "."
        )
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise FileProblem(f"The file has more than {MAX_ROWS} partners; split it into smaller files.")
            rows.append(_row(number, columns, cells, seen))
    except csv.Error as exc:
        raise FileProblem(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from exc
    if not rows:
        raise FileProblem("The file has a heading line but no partners under it.")
    return rows


def _row(number: int, columns: list[str | None], cells: list[str], seen: dict[str, int]) -> dict[str, Any]:
    row: dict[str, Any] = {"line": number, **dict.fromkeys(COLUMNS, "")}
    errors: list[str] = []
    for column, cell in zip(columns, cells, strict=False):
        if column and not row[column]:
            row[column] = " ".join(cell.split())
    for column, value in row.items():
        if column == "line" or not value:
            continue
        bad = unusable_character(value)
        if bad:
            errors.append(f"The {column.replace('_', ' ')} cannot be stored. {bad}")
            row[column] = ""
        elif len(value) > LIMITS.get(column, 200):
            errors.append(f"The {column.replace('_', ' ')} is longer than {LIMITS[column]} characters.")
    email = row["email"].lower()
    row["email"] = email
    if not email:
        errors.append("No email address: every partner needs one.")
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"“{email}” is not an email address.")
        else:
            if email in seen:
                errors.append(f"Duplicate: {email} is already on line {seen[email]} of this file.")
            else:
                seen[email] = number
    row["country"], country_error = _country(row["country"])
    if country_error:
        errors.append(country_error)
    if not row["name"] and email:
        row["name"] = email.partition("@")[0]  # a partner edits it on its profile later
    row["errors"] = errors
    return row
