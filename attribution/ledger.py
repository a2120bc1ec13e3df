"""The partner ledger: append entries, hash-chained per workspace, and verify the chain."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Workspace
from attribution.models import LedgerEntry
from partners.models import Partner

GENESIS_HASH = "0" * 64
_FOUR_PLACES = Decimal("0.0001")
_LOCK_NAMESPACE = 0x7A11  # advisory-lock namespace for per-workspace ledger appends


class NewEntry(NamedTuple):  # one per commission of a set: a named tuple is quick to make
    partner_id: int
    kind: str
    amount: Decimal
    currency: str
    reference: str = ""
    memo: str = ""


def entry_hash(
    *,
    prev_hash: str,
    workspace_id: int,
    sequence: int,
    partner_id: int,
    kind: str,
    amount: Decimal,
    currency: str,
    reference: str,
    memo: str,
    created_at: datetime,
) -> str:
    """The hash that chains an entry to its predecessor. Amounts are normalised to 4 places."""
    return _digest(
        prev_hash,
        workspace_id,
        sequence,
        partner_id,
        kind,
        Decimal(amount).quantize(_FOUR_PLACES),
        currency,
        reference,
        memo,
        _stamp(created_at),
    )


def _stamp(created_at: datetime) -> str:
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def _digest(
    prev_hash: str,
    workspace_id: int,
    sequence: int,
    partner_id: int,
    kind: str,
    amount: Decimal,
    currency: str,
    reference: str,
    memo: str,
    stamp: str,
) -> str:
    """entry_hash of an amount already at 4 places and a time already in its canonical text."""
    canonical = (
        f"{prev_hash}|{workspace_id}|{sequence}|{partner_id}|{kind}|{amount}|{currency}|{reference}|{memo}|{stamp}"
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hash_of(entry: LedgerEntry) -> str:
    return entry_hash(
        prev_hash=entry.prev_hash,
        workspace_id=entry.workspace_id,
        sequence=entry.sequence,
        partner_id=entry.partner_id,
        kind=entry.kind,
        amount=entry.amount,
        currency=entry.currency,
        reference=entry.reference,
        memo=entry.memo,
        created_at=entry.created_at,
    )


def post_entries(
    *, workspace: Workspace, entries: Iterable[NewEntry], return_entries: bool = True
) -> list[LedgerEntry]:
    """Append entries to the workspace's chain in one transaction.

    Appends are serialised per workspace with an advisory lock, so concurrent writers
    never fork the chain; other workspaces are not blocked. The rows go in with one
    statement however many there are; `return_entries=False` skips building the model
    objects for callers that do not need them (the inbox processor).
    """
    from core.sql import insert_rows  # the ledger stays importable without the processor's helpers

    entries = list(entries)
    if not entries:
        return []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, workspace.pk])
        last = (
            LedgerEntry.objects.for_workspace(workspace).order_by("-sequence").values("sequence", "entry_hash").first()
        )
        sequence = last["sequence"] if last else 0
        prev = last["entry_hash"] if last else GENESIS_HASH
        now = timezone.now()
        stamp = _stamp(now)
        rows = []
        for new in entries:
            sequence += 1
            amount = Decimal(new.amount).quantize(_FOUR_PLACES)
            memo = new.memo[:255]
            digest = _digest(
                prev, workspace.pk, sequence, new.partner_id, new.kind, amount, new.currency, new.reference, memo, stamp
            )
            rows.append(
                {
                    "workspace_id": workspace.pk,
                    "sequence": sequence,
                    "partner_id": new.partner_id,
                    "kind": new.kind,
                    "amount": amount,
                    "currency": new.currency,
                    "reference": new.reference,
                    "memo": memo,
                    "created_at": now,
                    "prev_hash": prev,
                    "entry_hash": digest,
                }
            )
            prev = digest
        ids = dict((sequence, pk) for pk, sequence in insert_rows(LedgerEntry, rows, returning=("id", "sequence")))
        if not return_entries:
            return []
        return [LedgerEntry(pk=ids[row["sequence"]], **row) for row in rows]


def post_entry(
    *,
    workspace: Workspace,
    partner: Partner,
    kind: str,
    amount: Decimal,
    currency: str,
    reference: str = "",
    memo: str = "",
) -> LedgerEntry:
    return post_entries(
        workspace=workspace,
        entries=[
            NewEntry(partner_id=partner.pk, kind=kind, amount=amount, currency=currency, reference=reference, memo=memo)
        ],
    )[0]


def partner_balance(*, workspace: Workspace, partner: Partner) -> dict[str, Decimal]:
    """The partner's balance per currency: the sum of its entries."""
    rows = (
        LedgerEntry.objects.for_workspace(workspace)
        .filter(partner=partner)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    return {row["currency"]: row["total"] for row in rows}


@dataclass(frozen=True)
class ChainBreak:
    workspace_slug: str
    sequence: int
    entry_id: int
    problem: str

    def __str__(self) -> str:
        return f"workspace {self.workspace_slug}: entry #{self.sequence} (id {self.entry_id}) {self.problem}"


def verify_chain(workspace: Workspace) -> tuple[int, ChainBreak | None]:
    """Walk the workspace's chain in order; return how many entries were checked and the first break."""
    expected_prev = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    entries: Iterator[LedgerEntry] = (
        LedgerEntry.objects.for_workspace(workspace).order_by("sequence").iterator(chunk_size=5000)
    )
    for entry in entries:
        checked += 1
        problem = None
        if entry.sequence != expected_sequence:
            problem = f"has sequence {entry.sequence}, expected {expected_sequence} (an entry is missing)"
        elif entry.prev_hash != expected_prev:
            problem = "does not point at the previous entry's hash"
        elif _hash_of(entry) != entry.entry_hash:
            problem = "was altered: its contents no longer match its hash"
        if problem:
            return checked, ChainBreak(workspace.slug, entry.sequence, entry.pk, problem)
        expected_prev = entry.entry_hash
        expected_sequence += 1
    return checked, None
