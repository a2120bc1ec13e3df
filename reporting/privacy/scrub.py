"""Replacing a customer's email addresses and names wherever a workspace keeps text.

Rather than a list of columns that goes stale as the apps grow (a webhook delivery log, an audit
entry, a CSV upload), every text and JSON column of every table that carries `workspace_id` is
searched. An email address is specific enough to replace wherever it appears; a name is replaced
only where a whole value (a column, or a string inside JSON) is that name.

The ledger is left alone: its entries are hash-chained and refuse UPDATE, and they hold amounts and
references, no customer's email.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models

LEFT_ALONE = {"attribution_ledgerentry", "reporting_customererasure"}


def _tenant_tables() -> Iterator[tuple[str, list[tuple[str, int | None]], list[str]]]:
    """(table, [(text column, max length)], [json columns]) of every table with a workspace."""
    # What the database has, not only what the models say: a model whose migration has not run yet
    # (a deploy between code and migrate) must not make an erasure fail.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        )
        existing = {(str(t), str(c)) for t, c in cursor.fetchall()}
    seen: set[str] = set()
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in LEFT_ALONE or meta.db_table in seen:
            continue
        fields = meta.concrete_fields
        if (meta.db_table, "workspace_id") not in existing:
            continue
        seen.add(meta.db_table)
        text = [
            (str(f.column), getattr(f, "max_length", None))
            for f in fields
            if isinstance(f, (models.CharField, models.TextField))
            and not f.choices
            and not f.primary_key
            and (meta.db_table, f.column) in existing
        ]
        json = [
            str(f.column) for f in fields if isinstance(f, models.JSONField) and (meta.db_table, f.column) in existing
        ]
        if text or json:
            yield meta.db_table, text, json


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _regex(value: str) -> str:
    # PostgreSQL's regular expressions read a backslash before a non-alphanumeric as that character.
    return "".join(ch if ch.isalnum() else "\\" + ch for ch in value)


def replace_emails(*, workspace_id: int, emails: Iterable[str], replacement: str) -> int:
    """Every occurrence of each address, in any case, becomes `replacement`. Returns rows changed."""
    changed = 0
    quoted = connection.ops.quote_name
    with connection.cursor() as cursor:
        for email in {e.strip().lower() for e in emails if e and "@" in e}:
            pattern, like = _regex(email), _like(email)
            for table, text, json in _tenant_tables():
                for column, max_length in text:
                    value = f"regexp_replace({quoted(column)}, %s, %s, 'gi')"
                    if max_length:
                        value = f"left({value}, {int(max_length)})"
                    cursor.execute(
                        f"UPDATE {quoted(table)} SET {quoted(column)} = {value} "
                        f"WHERE workspace_id = %s AND {quoted(column)} ILIKE %s",
                        [pattern, replacement, workspace_id, like],
                    )
                    changed += cursor.rowcount
                for column in json:
                    cursor.execute(
                        f"UPDATE {quoted(table)} SET {quoted(column)} = "
                        f"regexp_replace({quoted(column)}::text, %s, %s, 'gi')::jsonb "
                        f"WHERE workspace_id = %s AND {quoted(column)}::text ILIKE %s",
                        [pattern, replacement, workspace_id, like],
                    )
                    changed += cursor.rowcount
    return changed


# Where a person's name is kept: columns, and keys of JSON documents (an audit entry's changes, a
# webhook's payload). A program or a product may carry the same words and keeps them.
NAME_COLUMNS = frozenset({"customer_name", "contact_name", "target_repr"})
NAME_KEYS = frozenset(
    {"name", "customer_name", "contact_name", "first_name", "last_name", "full_name", "firstname", "lastname"}
)


def _replace_in(value: Any, names: set[str], replacement: str, *, under_name: bool = False) -> Any:
    if isinstance(value, str):
        return replacement if under_name and value.strip().lower() in names else value
    if isinstance(value, list):  # an audit entry's [before, after] keeps its key's meaning
        return [_replace_in(v, names, replacement, under_name=under_name) for v in value]
    if isinstance(value, dict):
        return {k: _replace_in(v, names, replacement, under_name=str(k).lower() in NAME_KEYS) for k, v in value.items()}
    return value


def replace_names(*, workspace_id: int, names: Iterable[str], replacement: str) -> int:
    """Whole values equal to one of `names` (any case) become `replacement`: the value of a column that
    holds a person's name, or a string under a name key anywhere inside a JSON document."""
    wanted = {n.strip().lower() for n in names if n and len(n.strip()) >= 2}
    if not wanted:
        return 0
    changed = 0
    quoted = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, text, json in _tenant_tables():
            for column, max_length in text:
                if column not in NAME_COLUMNS:
                    continue
                cursor.execute(
                    f"UPDATE {quoted(table)} SET {quoted(column)} = %s "
                    f"WHERE workspace_id = %s AND lower(btrim({quoted(column)})) = ANY(%s)",
                    [replacement[: max_length or None], workspace_id, list(wanted)],
                )
                changed += cursor.rowcount
            if not json:
                continue
            pk = [f.column for f in apps.get_model(*_model_label(table))._meta.pk_fields]
            for column in json:
                condition = " OR ".join([f"{quoted(column)}::text ILIKE %s"] * len(wanted))
                cursor.execute(
                    f"SELECT {', '.join(quoted(c) for c in pk)}, {quoted(column)} FROM {quoted(table)} "
                    f"WHERE workspace_id = %s AND ({condition})",
                    [workspace_id, *(_like(n) for n in wanted)],
                )
                for row in cursor.fetchall():
                    keys, document = row[:-1], row[-1]
                    if isinstance(document, str):
                        document = jsonlib.loads(document)
                    cleaned = _replace_in(document, wanted, replacement)
                    if cleaned == document:
                        continue
                    where = " AND ".join(f"{quoted(c)} = %s" for c in pk)
                    cursor.execute(
                        f"UPDATE {quoted(table)} SET {quoted(column)} = %s::jsonb WHERE {where}",
                        [jsonlib.dumps(cleaned), *keys],
                    )
                    changed += 1
    return changed


def _model_label(table: str) -> tuple[str, str]:
    for model in apps.get_models():
        if model._meta.db_table == table:
            return model._meta.app_label, model._meta.model_name or ""
    raise LookupError(table)


def rewrite_stored_files(*, names: Iterable[str], emails: Iterable[str], replacement: str) -> int:
    """Uploaded CSVs and written exports keep rows of text too: each file naming an address is
    rewritten with the address replaced. Returns files changed."""
    patterns = [re.compile(re.escape(e), re.IGNORECASE) for e in {e.strip().lower() for e in emails if e}]
    if not patterns:
        return 0
    changed = 0
    for name in names:
        if not name or not default_storage.exists(name):
            continue
        with default_storage.open(name, "rb") as handle:
            text = handle.read().decode("utf-8", errors="surrogateescape")
        new = text
        for pattern in patterns:
            new = pattern.sub(replacement, new)
        if new != text:
            default_storage.delete(name)
            default_storage.save(name, ContentFile(new.encode("utf-8", errors="surrogateescape")))
            changed += 1
    return changed
