"""`manage.py verify_statement <file.pdf>`: is this statement PDF what the records and the ledger say?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.currency import format_money
from reporting.payouts.verification_pdf import UnreadablePdf, check_statement_pdf


class Command(BaseCommand):
    help = (
        "Check a downloaded statement PDF against the records: its number, total, currency, ledger entry and "
        "fingerprint, and whether the ledger up to that entry is intact. Exit 0 and 'matches' when all agree; "
        "otherwise exit 1 naming the first difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pdf", help="Path to the statement PDF")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["pdf"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror or error})") from error
        try:
            result = check_statement_pdf(data)
        except UnreadablePdf as error:
            raise CommandError(f"{path}: {error}") from error
        if not result.matches:
            raise CommandError(f"{path}: does not match: {result.differences[0]}")
        statement = result.statement
        assert statement is not None and result.chain is not None
        self.stdout.write(
            f"{path}: matches: statement {statement.number} of {statement.workspace.name}, "
            f"total {format_money(statement.total, statement.currency)}, ledger entry #{statement.ledger_sequence}; "
            f"the ledger up to it verifies ({result.chain.entries_checked} {'entry' if result.chain.entries_checked == 1 else 'entries'} checked)"
        )
