"""Set-based INSERT and UPDATE for the inbox processor's hot path.

`Model.objects.bulk_create` cannot say which rows `ignore_conflicts` skipped, and it builds one
placeholder per value; the processor needs both "which rows did I insert" (to post ledger
entries for exactly those) and speed at tens of thousands of rows a second. These helpers send
one statement per set, one array per column (`INSERT ... SELECT FROM unnest(...)`), with the
parameters bound server-side (no quoting of thousands of values into the SQL text). Columns,
defaults and conversions come from the model, so a field added later with a default needs no
change here. They run on the connection Django is using, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone
from psycopg.pq import Format

from core.arrays import number_array, text_array

_NO_DEFAULT = object()
# Field types whose Python value psycopg sends as is (Django's own conversion would only copy it).
_PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "CharField",
        "TextField",
        "EmailField",
        "SlugField",
        "URLField",
        "BooleanField",
        "DecimalField",
        "DateTimeField",
        "DateField",
        "ForeignKey",
        "OneToOneField",
        "UUIDField",
    }
)


class EncodedJson(str):
    """A JSONField value its caller has already encoded: sent as it is."""


def _column_type(field: models.Field) -> str:
    db_type = field.db_type(connection)
    if db_type is None:  # pragma: no cover - only virtual fields have none
        raise ValueError(f"{field} has no column")
    # A serial primary key is referenced as bigint/integer.
    return {"bigserial": "bigint", "serial": "integer", "smallserial": "smallint"}.get(db_type, db_type)


def _column(field: models.Field) -> str:
    """The column of a concrete field (the stubs allow None, which only a virtual field has)."""
    if field.column is None:  # pragma: no cover - only virtual fields have none
        raise ValueError(f"{field} has no column")
    return field.column


def _concrete_field(model: type[models.Model], name: str) -> models.Field:
    """`model`'s field `name`, which must be a column of its own (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):  # pragma: no cover - a caller's typo
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def _default_of(field: models.Field, now: Any) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default() or field.null or field.empty_strings_allowed:
        return field.get_default()  # the default, else None for a nullable field, else ""
    return _NO_DEFAULT


def _converter(field: models.Field) -> tuple[Callable[[Any], Any] | None, str, str]:
    """How to send a value of `field`: (convert, or None to send it as it is; array type of the
    parameter; cast of the column)."""
    kind = field.get_internal_type()
    column = _column_type(field)
    if kind == "JSONField":
        # One encoder for every value: json.dumps(cls=...) would build a new one per value.
        encode = (getattr(field, "encoder", None) or DjangoJSONEncoder)(separators=(",", ":")).encode
        return (lambda v: v if type(v) is EncodedJson else None if v is None else encode(v)), "text", column
    if kind in _PLAIN:
        return None, column, column
    return (lambda v: field.get_db_prep_save(v, connection)), column, column


# psycopg's own (compiled) loaders of timestamptz. Django replaces them on its connections with
# subclasses of the pure-Python ones, to set the time zone of what they return; that is about 7 µs
# a value, and a set reads tens of thousands. The session's time zone is UTC (Django sets it), so
# the compiled ones return the same aware datetimes.
_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
_TIMESTAMPTZ_LOADERS = [
    loader
    for fmt in (Format.TEXT, Format.BINARY)
    if (loader := psycopg.adapters.get_loader(_TIMESTAMPTZ, fmt)) is not None
]


@contextmanager
def _cursor() -> Iterator[psycopg.Cursor]:
    """A cursor that sends the arrays as parameters (Django's bind client-side), on Django's
    connection and transaction; its errors are Django's (OperationalError, IntegrityError, ...),
    as callers and the API's 503 handler expect."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        for loader in _TIMESTAMPTZ_LOADERS:
            cursor.adapters.register_loader(_TIMESTAMPTZ, loader)
        yield cursor


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
    q = connection.ops.quote_name
    given = set().union(*rows)  # the fields some row names; the others take their default in every row
    # Rows built alike all name the same fields: each column is then read in C (itemgetter).
    alike = all(len(row) == len(given) for row in rows)
    columns, selects, shared, params, arrays, aliases = [], [], [], [], [], []
    for index, field in enumerate(fields):
        default = _default_of(field, now)
        convert, param_type, column_type = _converter(field)
        try:
            if field.attname not in given:
                values = [default] if default is not _NO_DEFAULT else [rows[0][field.attname]]
            elif alike or default is _NO_DEFAULT:
                values = list(map(itemgetter(field.attname), rows))
            else:
                values = [row.get(field.attname, default) for row in rows]
        except KeyError:
            raise ValueError(f"{model.__name__}.{field.attname} needs a value") from None
        if convert is not None:
            values = list(map(convert, values))
        columns.append(q(_column(field)))
        if _same(values):
            selects.append(f"%b::{column_type}" if param_type == column_type else f"%b::{param_type}::{column_type}")
            shared.append(values[0])
            continue
        placeholder, array = _array(param_type, values)
        params.append(placeholder)
        selects.append(f"c{index}" if param_type == column_type else f"c{index}::{column_type}")
        aliases.append(f"c{index}")
        arrays.append(array)
    returned = ", ".join(q(_column(_concrete_field(model, name))) for name in returning)
    source = (
        f"unnest({', '.join(params)}) AS u({', '.join(aliases)})" if arrays else "generate_series(1, %b::integer)"
    )  # every column is the same in every row
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} FROM {source}"
        f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''} RETURNING {returned}"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [*shared, *(arrays or [len(rows)])])
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

    `where` adds a condition on the target table (aliased `t`), e.g. "t.workspace_id = %s". The
    rows are always found by their primary key: the condition only filters them (as `IS TRUE`, which
    no index can serve), so statistics that lag behind a fast-growing table cannot turn the
    statement into a scan of, say, the whole workspace.
    """
    if not rows:
        return 0
    model_fields = [_concrete_field(model, name) for name in fields]
    pk = model._meta.pk
    q = connection.ops.quote_name
    params = [f"%b::{_column_type(pk)}[]"]
    arrays: list[list[Any]] = [[row["id"] for row in rows]]
    aliases = ["id"]
    assignments, shared = [], []
    for index, field in enumerate(model_fields):
        convert, param_type, column_type = _converter(field)
        values = list(map(itemgetter(field.attname), rows))
        if convert is not None:
            values = list(map(convert, values))
        if _same(values):
            cast = f"::{param_type}" if param_type == column_type else f"::{param_type}::{column_type}"
            assignments.append(f"{q(_column(field))} = %b{cast}")
            shared.append(values[0])
            continue
        placeholder, array = _array(param_type, values)
        params.append(placeholder)
        arrays.append(array)
        aliases.append(f"v{index}")
        value = f"v.v{index}" if param_type == column_type else f"v.v{index}::{column_type}"
        assignments.append(f"{q(_column(field))} = {value}")
    sql = (
        f"UPDATE {q(model._meta.db_table)} AS t SET {', '.join(assignments)} "
        f"FROM unnest({', '.join(params)}) AS v({', '.join(aliases)}) WHERE t.{q(_column(pk))} = v.id"
        + (f" AND ({where}) IS TRUE" if where else "")
    )
    with _cursor() as cursor:
        cursor.execute(sql, [*shared, *arrays, *where_params])
        return cursor.rowcount


_INTEGERS = frozenset({"bigint", "integer", "smallint"})


def _array(param_type: str, values: list[Any]) -> tuple[str, Any]:
    """The placeholder and parameter that send `values` as one array.

    Numbers, strings and times go as one array literal (see core.arrays); anything else as a
    binary array, which psycopg dumps element by element.
    """
    if param_type in _INTEGERS or param_type.startswith("numeric"):
        return f"%t::{param_type}[]", number_array(values)
    if param_type == "text" or param_type.startswith("varchar"):
        return f"%t::{param_type}[]", text_array(values)
    if param_type == "timestamp with time zone" and None not in values:
        return f"%t::{param_type}[]", text_array([value.isoformat() for value in values])
    return f"%b::{param_type}[]", values


def _same(values: list[Any]) -> bool:
    """Whether every value equals the first: such a column is sent once, as a scalar, instead of
    as an array (most of a set's columns are: its workspace, program, status, currency, time)."""
    first = values[0]
    return first == values[-1] and values.count(first) == len(values)


def fetch_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """A read whose parameters are large arrays (`= ANY(%s)`), bound server-side."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def execute_rows(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> int:
    """A write whose parameters are large arrays, bound server-side; returns how many rows it changed."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
