"""Statements a partner can verify: a short code on every statement, what `/verify/<code>` may show about
it to anyone holding the code, and whether the ledger still says what the statement says.

The code (reporting.payouts.codes) is the only key a stranger holds, so the public page shows nothing of
the tenant beyond this one statement, with the partner's name masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.urls import reverse

from attribution.ledger import GENESIS_HASH
from attribution.models import LedgerEntry
from core.currency import plain_amount
from reporting.payouts.codes import normalize_code
from reporting.payouts.models import Statement

_HIDDEN = "•••"
# The name of the JSON file attached to every statement PDF (its figures, for a machine to read back).
STATEMENT_FACTS_NAME = "statement.json"


def verification_url(code: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("verify_statement", args=[code])


def statement_for_code(text: str) -> Statement | None:
    """The statement a code names, in whatever workspace: the code is the key, as a link code is.

    Codes are unique per workspace (the key rule of DESIGN.md) and random enough never to repeat across
    workspaces; should two ever match, neither is shown rather than the wrong one."""
    code = normalize_code(text)
    if code is None:
        return None
    by_code = Statement.objects.across_workspaces("a verification code is a global key, like a link code")
    found = list(by_code.filter(verification_code=code).select_related("period", "workspace")[:2])
    return found[0] if len(found) == 1 else None


def mask_name(name: str) -> str:
    """`Jane Doe` as `J••• D•••`: enough for the partner to recognise itself, not for a stranger to learn."""
    return " ".join(f"{word[0]}{_HIDDEN}" for word in (name or "").split()) or _HIDDEN


@dataclass(frozen=True)
class ChainCheck:
    """The workspace's ledger from its first entry up to the statement's, checked now."""

    verifies: bool
    entries_checked: int
    sequence: int
    problem: str = ""


# Every entry up to the statement's, checked in one pass by PostgreSQL: numbered without a gap, each
# pointing at the previous entry's hash, and each hash still the SHA-256 of its contents. The text
# hashed is attribution.ledger.entry_hash's, byte for byte (amounts at 4 places, the time in UTC to the
# microsecond); tests hold the two to the same answers.
_CHAIN_UP_TO = """
WITH chain AS (
    SELECT sequence, prev_hash, entry_hash,
           lag(sequence) OVER w AS before_sequence,
           lag(entry_hash) OVER w AS before_hash,
           encode(sha256(convert_to(
               prev_hash || '|' || workspace_id || '|' || sequence || '|' || coalesce(partner_id::text, 'None')
               || '|' || kind || '|' || amount::numeric(18, 4)::text || '|' || currency || '|' || reference
               || '|' || memo || '|' || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
               || '+00:00', 'UTF8')), 'hex') AS computed
    FROM {table}
    WHERE workspace_id = %(workspace)s AND sequence <= %(sequence)s
    WINDOW w AS (ORDER BY sequence)
)
SELECT (SELECT count(*) FROM chain),
       (SELECT entry_hash FROM chain WHERE sequence = %(sequence)s),
       broken.sequence, broken.problem
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT sequence,
           CASE WHEN sequence <> coalesce(before_sequence, 0) + 1 THEN 'missing'
                WHEN prev_hash <> coalesce(before_hash, %(genesis)s) THEN 'unlinked'
                ELSE 'altered' END AS problem
    FROM chain
    WHERE sequence <> coalesce(before_sequence, 0) + 1
       OR prev_hash <> coalesce(before_hash, %(genesis)s)
       OR computed <> entry_hash
    ORDER BY sequence
    LIMIT 1
) AS broken ON true
"""

_PROBLEMS = {
    "missing": "an entry before #{sequence} is missing",
    "unlinked": "entry #{sequence} no longer follows the entry before it",
    "altered": "entry #{sequence} was changed after it was written",
}


def check_chain_up_to(statement: Statement) -> ChainCheck:
    """Whether the ledger up to the statement's entry is intact now, and still ends in the statement's
    fingerprint. One query over the entries up to it, however many workspaces and later entries there are."""
    sequence = statement.ledger_sequence
    if sequence == 0:
        return ChainCheck(verifies=True, entries_checked=0, sequence=0)
    with connection.cursor() as cursor:
        cursor.execute(
            _CHAIN_UP_TO.format(table=connection.ops.quote_name(LedgerEntry._meta.db_table)),
            {"workspace": statement.workspace_id, "sequence": sequence, "genesis": GENESIS_HASH},
        )
        checked, last_hash, broken_at, problem = cursor.fetchone()
    if broken_at is not None:
        return ChainCheck(False, checked, sequence, _PROBLEMS[problem].format(sequence=broken_at))
    if last_hash is None:
        return ChainCheck(False, checked, sequence, f"entry #{sequence} is missing")
    if last_hash != statement.ledger_hash:
        return ChainCheck(False, checked, sequence, f"entry #{sequence} no longer has this statement's fingerprint")
    return ChainCheck(True, checked, sequence)


def statement_facts(statement: Statement) -> dict[str, Any]:
    """The figures a statement's PDF carries for a machine to read back (attached as statement.json)."""
    period: date | None = statement.period.start
    return {
        "verification_code": statement.verification_code,
        "verify_url": verification_url(statement.verification_code),
        "number": statement.number,
        "total": plain_amount(statement.total, statement.currency),
        "currency": statement.currency,
        "period_start": period.isoformat() if period else None,
        "period_end": statement.period.end.isoformat(),
        "ledger_sequence": statement.ledger_sequence,
        "ledger_hash": statement.ledger_hash,
    }


def same_amount(text: str, amount: Decimal, currency: str) -> bool:
    """Whether an amount read from a document (`1,234.50`) is the statement's, at the currency's decimals."""
    try:
        return Decimal(text.replace(",", "")) == Decimal(plain_amount(amount, currency))
    except ArithmeticError:
        return False
