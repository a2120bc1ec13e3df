from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from attribution.ledger import GENESIS_HASH, NewEntry, partner_balance, post_entries, post_entry
from attribution.models import LedgerEntry
from tests.partners.factories import PartnerFactory


@pytest.fixture
def partner(workspace):
    return PartnerFactory(workspace=workspace)


def earn(workspace, partner, amount="10.00"):
    return post_entry(
        workspace=workspace,
        partner=partner,
        kind=LedgerEntry.Kind.COMMISSION_EARNED,
        amount=Decimal(amount),
        currency="USD",
        reference="commission:1",
    )


def test_entries_are_numbered_and_chained_per_workspace(workspace, other_workspace, partner):
    other_partner = PartnerFactory(workspace=other_workspace)
    first = earn(workspace, partner)
    second = earn(workspace, partner)
    elsewhere = earn(other_workspace, other_partner)
    assert (first.sequence, second.sequence, elsewhere.sequence) == (1, 2, 1)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash


def test_balance_is_the_sum_of_entries_per_currency(workspace, partner):
    post_entries(
        workspace=workspace,
        entries=[
            NewEntry(partner.pk, LedgerEntry.Kind.COMMISSION_EARNED, Decimal("20.00"), "USD"),
            NewEntry(partner.pk, LedgerEntry.Kind.COMMISSION_REVERSED, Decimal("-5.50"), "USD"),
            NewEntry(partner.pk, LedgerEntry.Kind.COMMISSION_EARNED, Decimal("7.00"), "EUR"),
        ],
    )
    assert partner_balance(workspace=workspace, partner=partner) == {"EUR": Decimal("7.00"), "USD": Decimal("14.50")}


def test_database_refuses_to_update_an_entry(workspace, partner):
    entry = earn(workspace, partner)
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("99"))


def test_database_refuses_to_delete_an_entry(workspace, partner):
    entry = earn(workspace, partner)
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_sequence_cannot_repeat_within_a_workspace(workspace, partner):
    entry = earn(workspace, partner)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            workspace=workspace,
            sequence=entry.sequence,
            partner=partner,
            kind=entry.kind,
            amount=1,
            currency="USD",
            created_at=entry.created_at,
            prev_hash=GENESIS_HASH,
            entry_hash="x" * 64,
        )


def test_verify_ledger_passes_on_an_intact_chain(workspace, partner, capsys):
    for _ in range(3):
        earn(workspace, partner)
    call_command("verify_ledger", "--workspace", workspace.slug)
    assert "3 entries" in capsys.readouterr().out


def test_verify_ledger_names_the_entry_altered_by_hand_in_sql(workspace, partner):
    earn(workspace, partner)
    tampered = earn(workspace, partner, "12.00")
    earn(workspace, partner)
    with connection.cursor() as cursor:
        # An attacker with SQL access disables the protection and edits an amount.
        cursor.execute("SET session_replication_role = replica")  # user triggers off
        cursor.execute("UPDATE attribution_ledgerentry SET amount = 1200 WHERE id = %s", [tampered.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
    with pytest.raises(CommandError, match=f"entry #{tampered.sequence} .*altered"):
        call_command("verify_ledger")


def test_verify_ledger_rejects_an_unknown_workspace(db):
    with pytest.raises(CommandError, match="No workspace"):
        call_command("verify_ledger", "--workspace", "nope")
