"""Writing buffered clicks to PostgreSQL: one COPY per batch, uniqueness decided on the way in.

A click is unique unless the same visitor (today's digest, or yesterday's across midnight) made a
human click on the same link in the 24 hours before it, stored earlier or earlier in its batch.
Probing every click of the visitor for each row cost more than storing the row, so the flusher
keeps the time of each visitor's latest click per link in `referrals_latestvisit` (LatestVisit)
and decides in Python: one primary-key lookup per distinct (link, digest) of the batch, one
upsert per distinct (link, visitor) after the batch. The latest click answers exactly whenever it
is not later than the click being decided, which is the rule while the stream is in time order.
The rest (a click older than its visitor's latest one, e.g. a batch re-read after a crash, or
one whose window reaches past what LatestVisit surely keeps) is checked against the clicks
themselves through click_link_visitor, as before.

The batch then goes into referrals_click with one COPY, no staging table and no ON CONFLICT. A
click id already stored (a batch committed but not acknowledged before a crash, or a click sent
twice) makes the COPY fail on click_id_unique; the batch is then retried without the stored ids,
so a re-delivered batch is still written once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction

from core.arrays import number_array, text_array
from referrals.clicks.entries import ClickRow
from referrals.clicks.ids import EPOCH

DAY = 86_400_000_000  # microseconds
# LatestVisit rows are forgotten this long after their click (at most once an hour, by the flusher).
LATEST_VISIT_KEEP = timedelta(hours=48)


# Binary COPY: PostgreSQL parses it a fifth faster than text.
_COPY_CLICKS = """COPY referrals_click (click_id, workspace_id, link_id, partner_id, clicked_at, ip_hash, visitor_hash,
                   user_agent, referrer, is_bot, is_unique, earns_credit) FROM STDIN (FORMAT BINARY)"""
_COPY_TYPES = (
    "varchar",
    "int8",
    "int8",
    "int8",
    "timestamptz",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "bool",
    "bool",
    "bool",
)

_LINKS = """
SELECT l.id, l.workspace_id, l.partner_id, p.status = 'active'
FROM referrals_link l JOIN partners_partner p ON p.id = l.partner_id
WHERE l.id = ANY(%s::bigint[])
"""

# Each key is one lookup by LatestVisit's primary key: LIMIT 1 keeps the subquery a nested loop
# (it cannot be flattened into a join the planner might turn into a scan of the whole table).
_LATEST_VISITS = """
SELECT k.link_id, k.visitor_hash, (extract(epoch FROM v.clicked_at) * 1000000)::bigint
FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[]) AS k(workspace_id, link_id, visitor_hash)
CROSS JOIN LATERAL (
    SELECT clicked_at FROM referrals_latestvisit v
    WHERE v.workspace_id = k.workspace_id AND v.link_id = k.link_id AND v.visitor_hash = k.visitor_hash
    LIMIT 1) v
"""

_REMEMBER_VISITS = """
INSERT INTO referrals_latestvisit AS v (workspace_id, link_id, visitor_hash, clicked_at)
SELECT w, l, h, timestamptz 'epoch' + us * interval '1 microsecond'
FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::bigint[]) AS k(w, l, h, us)
ON CONFLICT (workspace_id, link_id, visitor_hash) DO UPDATE SET clicked_at = greatest(v.clicked_at, excluded.clicked_at)
"""

# The exact check for the clicks LatestVisit cannot decide. The bounds are row comparisons over
# click_link_visitor's columns, in that index's order, so no other index can serve them: with
# plain `clicked_at` conditions the planner could pick another index (by skip scan, too) and read
# every click of the day for each row when its statistics were off, e.g. after one visitor's burst.
_EARLIER_CLICK = """
    EXISTS (SELECT 1 FROM referrals_click c
            WHERE (c.link_id, c.visitor_hash, c.clicked_at) > (b.link_id, b.{digest}, b.clicked_at - interval '24 hours')
              AND (c.link_id, c.visitor_hash, c.clicked_at) <= (b.link_id, b.{digest}, b.clicked_at)
              AND NOT c.is_bot AND c.click_id <> b.click_id)"""

# A stored click within 24 hours after a click written late is not unique. Only the same day's digest
# finds them (yesterday's digest of a stored click is not kept), so a late click just before midnight
# leaves the next day's clicks as they were. click_link_visitor serves each key.
_DEMOTE_LATER_CLICKS = """
UPDATE referrals_click c SET is_unique = false
FROM unnest(%s::bigint[], %s::varchar[], %s::bigint[]) AS k(link_id, visitor_hash, us)
WHERE (c.link_id, c.visitor_hash, c.clicked_at) > (k.link_id, k.visitor_hash, timestamptz 'epoch' + k.us * interval '1 microsecond')
  AND (c.link_id, c.visitor_hash, c.clicked_at)
      <= (k.link_id, k.visitor_hash, timestamptz 'epoch' + k.us * interval '1 microsecond' + interval '24 hours')
  AND c.is_unique AND NOT c.is_bot
"""

CLICKS_WITH_EARLIER_VISITS = f"""
SELECT b.click_id
FROM (SELECT click_id, link_id, visitor_hash, prev_visitor_hash, timestamptz 'epoch' + us * interval '1 microsecond'
      FROM unnest(%s::varchar[], %s::bigint[], %s::varchar[], %s::varchar[], %s::bigint[])
          AS k(click_id, link_id, visitor_hash, prev_visitor_hash, us)
     ) AS b(click_id, link_id, visitor_hash, prev_visitor_hash, clicked_at)
WHERE {_EARLIER_CLICK.format(digest="visitor_hash")}
   OR {_EARLIER_CLICK.format(digest="prev_visitor_hash")}
"""


def write_batch(rows: list[ClickRow], *, wait_for_disk: bool = True) -> int:
    """Write clicks in one transaction; returns how many were new. Safe to repeat with the same rows.

    Clicks of a link that no longer exists (or not in the workspace they name) are left out. With
    `wait_for_disk` False the commit returns before the batch is on disk: the caller must keep
    the clicks' source until flusher.wait_for_earlier_commits() has returned (see flusher._Acknowledger).
    """
    # Time order (then click id, for equal times) is the order uniqueness is decided in.
    rows = sorted({row.click_id: row for row in reversed(rows)}.values(), key=lambda row: (row.micros, row.click_id))
    with transaction.atomic(), connection.cursor() as cursor:
        # Every statement below is meant to use an index; a sequential scan "stopping at the first
        # match" can look cheap to a planner whose statistics were skewed by one visitor's burst.
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not wait_for_disk:
            cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(_LINKS, [number_array({row.link_id for row in rows})])
        links = {link_id: (workspace_id, partner_id, earns) for link_id, workspace_id, partner_id, earns in cursor}
        rows = [row for row in rows if row.link_id in links and links[row.link_id][0] == row.workspace_id]
        if not rows:
            return 0
        try:
            with transaction.atomic():
                _insert_clicks(cursor, rows, links)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            # Some of these clicks are stored already (see above): write only the others.
            cursor.execute(
                "SELECT click_id FROM referrals_click WHERE click_id = ANY(%s::varchar[])",
                [text_array([row.click_id for row in rows])],
            )
            stored = {click_id for (click_id,) in cursor}
            rows = [row for row in rows if row.click_id not in stored]
            if rows:
                _insert_clicks(cursor, rows, links)
    return len(rows)


def _insert_clicks(cursor: Any, rows: list[ClickRow], links: dict[int, tuple[int, int, bool]]) -> None:
    unique, predated = _uniqueness(cursor, rows)
    with cursor.cursor.copy(_COPY_CLICKS) as copy:
        copy.set_types(_COPY_TYPES)
        for row, is_unique in zip(rows, unique, strict=True):
            workspace_id, partner_id, earns = links[row.link_id]
            copy.write_row(
                (
                    row.click_id,
                    workspace_id,
                    row.link_id,
                    partner_id,
                    row.clicked_at,
                    row.ip_hash,
                    row.visitor_hash,
                    row.user_agent,
                    row.referrer,
                    row.is_bot,
                    is_unique,
                    earns,
                )
            )
    latest: dict[tuple[int, int, str], int] = {}
    for row in rows:  # in time order: the last one of a visitor is its latest
        if not row.is_bot:
            latest[(row.workspace_id, row.link_id, row.visitor_hash)] = row.micros
    if latest:
        keys = sorted(latest)  # one order for every writer, so two never wait on each other's rows
        cursor.execute(
            _REMEMBER_VISITS,
            [
                number_array(k[0] for k in keys),
                number_array(k[1] for k in keys),
                text_array([k[2] for k in keys]),
                number_array(latest[k] for k in keys),
            ],
        )
    if predated:
        # Clicks that arrive after a later click of their visitor was stored (one buffered in Redis
        # while Redis was down, when the redirect wrote the next one straight to PostgreSQL): that
        # later click was judged without them, and is no visitor's first in 24 hours after all.
        cursor.execute(
            _DEMOTE_LATER_CLICKS,
            [
                number_array(row.link_id for row in predated),
                text_array([row.visitor_hash for row in predated]),
                number_array(row.micros for row in predated),
            ],
        )


def _uniqueness(cursor: Any, rows: list[ClickRow]) -> tuple[list[bool], list[ClickRow]]:
    """The is_unique flag of each row (rows in time order), from LatestVisit and the batch itself,
    and the rows that may be older than a stored click of their visitor (see _DEMOTE_LATER_CLICKS)."""
    keys = sorted(
        {
            (row.workspace_id, row.link_id, digest)
            for row in rows
            if not row.is_bot
            for digest in (row.visitor_hash, row.prev_visitor_hash)
        }
    )
    stored: dict[tuple[int, str], int] = {}
    if keys:
        cursor.execute(
            _LATEST_VISITS,
            [number_array(k[0] for k in keys), number_array(k[1] for k in keys), text_array([k[2] for k in keys])],
        )
        stored = {(link_id, digest): micros for link_id, digest, micros in cursor}
    # LatestVisit surely holds every human click since this moment (rows are kept LATEST_VISIT_KEEP).
    kept_since = (datetime.now(UTC) - LATEST_VISIT_KEEP - EPOCH) // timedelta(microseconds=1)
    seen: dict[tuple[int, str], int] = {}  # the latest earlier click of the batch, per link and visitor
    unique: list[bool] = []
    undecided: list[int] = []
    for n, row in enumerate(rows):
        if row.is_bot:
            unique.append(False)
            continue
        at, since = row.micros, row.micros - DAY
        verdict: bool | None = True
        for digest in (row.visitor_hash, row.prev_visitor_hash):
            key = (row.link_id, digest)
            earlier = seen.get(key, 0)
            latest = stored.get(key, 0)
            if earlier > since or since < latest <= at:
                verdict = False
                break
            if latest > at or since < kept_since:
                verdict = None  # LatestVisit cannot tell: the clicks themselves will
        seen[(row.link_id, row.visitor_hash)] = at
        unique.append(verdict is not False)
        if verdict is None:
            undecided.append(n)
    if undecided:
        batch = [rows[n] for n in undecided]
        cursor.execute(
            CLICKS_WITH_EARLIER_VISITS,
            [
                text_array([row.click_id for row in batch]),
                number_array(row.link_id for row in batch),
                text_array([row.visitor_hash for row in batch]),
                text_array([row.prev_visitor_hash for row in batch]),
                number_array(row.micros for row in batch),
            ],
        )
        repeated = {click_id for (click_id,) in cursor}
        for n in undecided:
            unique[n] = rows[n].click_id not in repeated
    # What LatestVisit cannot decide includes every click older than its visitor's latest stored one.
    return unique, [rows[n] for n in undecided]


def remember_recent_clicks(*, workspace_id: int) -> None:
    """Fill LatestVisit from a workspace's stored clicks (for clicks written without the flusher, e.g. the demo)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO referrals_latestvisit AS v (workspace_id, link_id, visitor_hash, clicked_at)
               SELECT workspace_id, link_id, visitor_hash, max(clicked_at) FROM referrals_click
               WHERE workspace_id = %s AND NOT is_bot AND clicked_at > %s
               GROUP BY workspace_id, link_id, visitor_hash
               ON CONFLICT (workspace_id, link_id, visitor_hash)
               DO UPDATE SET clicked_at = greatest(v.clicked_at, excluded.clicked_at)""",
            [workspace_id, datetime.now(UTC) - LATEST_VISIT_KEEP],
        )


def forget_old_visits() -> int:
    """Drop LatestVisit rows older than LATEST_VISIT_KEEP; returns how many."""
    # The cut is taken on the clock that stamps the clicks and that _uniqueness trusts (kept_since),
    # not PostgreSQL's now(): a database clock ahead of ours deleted visits _uniqueness relied on.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM referrals_latestvisit WHERE clicked_at < %s", [datetime.now(UTC) - LATEST_VISIT_KEEP]
        )
        return cursor.rowcount
