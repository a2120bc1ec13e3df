"""Keyword options shared by the attribution models' fields."""

from __future__ import annotations

from typing import TypedDict


# A key copied from rows the same transaction has just read or written, on a table the inbox
# processor appends to for every sale: no index of its own (an index of the table leads with it)
# and no database constraint. Each constraint costs a lookup and a FOR KEY SHARE lock of the
# referenced row per inserted row (about a fifth of a sale's processing, and every worker locks
# the same workspace and program rows); Django's on_delete still protects (or cascades) the rows
# when a workspace, program, partner, referral or reward rule is deleted through the ORM, and
# Tandem deletes none of them otherwise. The keys that tie money to money (a commission to its
# sale, a refund to its sale, a reversal to both) keep their constraints.
class DerivedKeyOptions(TypedDict):
    db_index: bool
    db_constraint: bool


DERIVED_KEY: DerivedKeyOptions = {"db_index": False, "db_constraint": False}


class MoneyOptions(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: MoneyOptions = {"max_digits": 18, "decimal_places": 4}
