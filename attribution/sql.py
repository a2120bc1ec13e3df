"""Set-based INSERT and UPDATE for the inbox processor's hot path.

`Model.objects.bulk_create` cannot say which rows `ignore_conflicts` skipped, and it builds one
placeholder per value; the processor needs both "which rows did I insert" (to post ledger
entries for exactly those) and speed at tens of thousands of rows a second. These helpers send
one statement per set, one typed array per column (`INSERT ... SELECT FROM unnest(...)`), and
take their columns, defaults and database conversions from the model, so a field added later
with a default needs no change here.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from django.db import connection, models
from django.utils import timezone

_NO_DEFAULT = object()


def _array_type(field: models.Field) -> str:
    db_type = field.db_type(connection)
    if db_type is None:  # pragma: no cover - only virtual fields have none
        raise ValueError(f"{field} has no column")
    # A serial primary key is referenced as bigint/integer.
    return {"bigserial": "bigint", "serial": "integer"}.get(db_type, db_type)


def _default_of(field: models.Field, now: Any) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default() or field.null or field.empty_strings_allowed:
        return field.get_default()  # the default, else None for a nullable field, else ""
    return _NO_DEFAULT


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
    returning: Sequence[str] = ("id",),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (dicts keyed by attname, e.g. `partner_id`) in one statement.

    Returns the `returning` columns of the rows actually inserted; with `ignore_conflicts`, a row
    that hit any unique constraint is silently skipped and missing from the answer.
    """
    if not rows:
        return []
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
    columns, casts, arrays = [], [], []
    for field in fields:
        default = _default_of(field, now)
        values = []
        for row in rows:
            value = row.get(field.attname, default)
            if value is _NO_DEFAULT:
                raise ValueError(f"{model.__name__}.{field.attname} needs a value")
            values.append(field.get_db_prep_save(value, connection))
        columns.append(connection.ops.quote_name(field.column))
        casts.append(f"%s::{_array_type(field)}[]")
        arrays.append(values)
    table = connection.ops.quote_name(model._meta.db_table)
    returned = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in returning)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(casts)})"
        f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''} RETURNING {returned}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return list(cursor.fetchall())


def update_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    fields: Iterable[str],
    where: str = "",
    where_params: Sequence[Any] = (),
) -> int:
    """Set `fields` of each row, matched by its `id`, in one statement; returns how many changed.

    `where` adds a condition on the target table (aliased `t`), e.g. "t.workspace_id = %s".
    """
    if not rows:
        return 0
    names = list(fields)
    model_fields = [model._meta.get_field(name) for name in names]
    pk = model._meta.pk
    ids = [row["id"] for row in rows]
    arrays: list[list[Any]] = [ids]
    for field in model_fields:
        arrays.append([field.get_db_prep_save(row[field.attname], connection) for row in rows])
    q = connection.ops.quote_name
    casts = [f"%s::{_array_type(pk)}[]"] + [f"%s::{_array_type(f)}[]" for f in model_fields]
    aliases = ["id"] + [f"v{i}" for i in range(len(model_fields))]
    assignments = ", ".join(f"{q(f.column)} = v.v{i}" for i, f in enumerate(model_fields))
    sql = (
        f"UPDATE {q(model._meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({', '.join(casts)}) AS v({', '.join(aliases)}) WHERE t.{q(pk.column)} = v.id"
        + (f" AND ({where})" if where else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arrays, *where_params])
        return cursor.rowcount
