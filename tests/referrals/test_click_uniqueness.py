"""A click is unique unless the same visitor clicked the same link in the 24 hours before it.

The flusher decides most clicks from each visitor's latest click (LatestVisit) and the rest (a click
older than its visitor's latest one, or one whose window reaches past what LatestVisit keeps) from
the stored clicks themselves. Each rule is checked both ways through the `decided_by` fixture.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction

from core.arrays import number_array, text_array
from referrals.clicks import entries, recording, writer
from referrals.clicks.flusher import flush_clicks
from referrals.models import Click, LatestVisit, Link
from tests.referrals.factories import LinkFactory

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
)
NOON = 1_767_268_800.0  # 2026-01-01 12:00 UTC


@pytest.fixture
def link(workspace, partner):
    return LinkFactory(workspace=workspace, partner=partner, code="paula")


@pytest.fixture(autouse=True, params=["latest_visit", "stored_clicks"])
def decided_by(request, monkeypatch):
    # LatestVisit answers only for clicks whose window it surely covers (LATEST_VISIT_KEEP back).
    keep = timedelta(days=3650) if request.param == "latest_visit" else timedelta(0)
    monkeypatch.setattr(writer, "LATEST_VISIT_KEEP", keep)
    return request.param


def _record(at: float, ip: str = "203.0.113.7", agent: str = BROWSER, code: str = "paula") -> None:
    recording.resolve_and_record(
        code, entries.Visit(click_id=f"c{at:.0f}-{ip}", at=at, ip=ip, user_agent=agent, referrer="")
    )


def _flags() -> list[bool]:
    return list(Click.objects.order_by("clicked_at", "click_id").values_list("is_unique", flat=True))


def test_a_repeat_visit_within_a_day_is_not_unique(link):
    _record(NOON)
    _record(NOON + 60)
    _record(NOON + 90, ip="198.51.100.99")
    flush_clicks()
    assert _flags() == [True, False, True]


def test_a_repeat_visit_in_a_later_batch_is_not_unique(link):
    _record(NOON)
    flush_clicks()
    _record(NOON + 60)
    flush_clicks()
    assert _flags() == [True, False]


def test_a_visit_more_than_24_hours_later_is_unique_again(link):
    for at in (NOON, NOON + 23 * 3600, NOON + 49 * 3600):
        _record(at)
        flush_clicks()
    assert _flags() == [True, False, True]


def test_a_repeat_visit_across_midnight_is_not_unique_although_the_salt_changed(link):
    before_midnight = NOON + 11 * 3600 + 59 * 60  # 23:59 UTC
    _record(before_midnight)
    flush_clicks()
    _record(before_midnight + 120)
    flush_clicks()
    first, second = Click.objects.order_by("clicked_at")
    assert first.visitor_hash != second.visitor_hash
    assert (first.is_unique, second.is_unique) == (True, False)


def test_a_bots_visit_neither_is_unique_nor_makes_the_next_human_visit_repeated(link):
    _record(NOON, agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    _record(NOON + 60)
    flush_clicks()
    assert _flags() == [False, True]


def test_the_same_visitor_on_another_link_is_unique(link, workspace, partner):
    LinkFactory(workspace=workspace, partner=partner, code="other")
    _record(NOON)
    _record(NOON + 60, code="other")
    flush_clicks()
    assert _flags() == [True, True]


def test_a_click_arriving_after_a_later_one_is_compared_with_the_clicks_before_it(link):
    # A batch re-read after a crash comes after newer clicks: the visitor's latest click is later
    # than these, so only the stored clicks can say whether one came in the 24 hours before.
    _record(NOON)
    _record(NOON + 7200, ip="198.51.100.5")
    flush_clicks()
    _record(NOON + 3600)
    _record(NOON + 3600, ip="198.51.100.5")
    flush_clicks()
    # In time order: 12:00 a, 13:00 b (its later click came first), 13:00 a (repeat), 14:00 b
    # (stored as unique, but b's 13:00 click came before it: one visitor, one unique click).
    assert _flags() == [True, True, False, False]


def _write(*visits: tuple[float, str, str]) -> None:
    """Write clicks straight through write_batch (flush_clicks would also forget old latest visits)."""
    link = Link.objects.get(code="paula")
    writer.write_batch(
        [
            entries.click_row(
                entries.stream_entry(
                    link.id,
                    link.workspace_id,
                    link.partner_id,
                    entries.Visit(click_id=f"w{at:.0f}-{ip}", at=at, ip=ip, user_agent=agent, referrer=""),
                )
            )
            for at, ip, agent in visits
        ]
    )


def test_latest_visits_hold_each_visitors_latest_human_click(link):
    _write((NOON + 60, "203.0.113.7", BROWSER))
    _write((NOON, "203.0.113.7", BROWSER), (NOON + 120, "203.0.113.7", ""))  # an earlier click, a bot's
    assert [visit.clicked_at.timestamp() for visit in LatestVisit.objects.all()] == [NOON + 60]


@time_machine.travel(NOON + 86400, tick=False)  # far from PostgreSQL's own now(): the cut is on our clock
def test_latest_visits_older_than_they_are_kept_are_forgotten(link, monkeypatch):
    recent = time.time()
    _write((recent - 3 * 86400, "203.0.113.7", BROWSER), (recent, "198.51.100.5", BROWSER))
    monkeypatch.setattr(writer, "LATEST_VISIT_KEEP", timedelta(hours=48))
    assert writer.forget_old_visits() == 1
    assert [visit.clicked_at.timestamp() for visit in LatestVisit.objects.all()] == [pytest.approx(recent)]


def test_a_click_sent_twice_in_one_batch_is_stored_once(link):
    _record(NOON)
    _record(NOON)
    assert flush_clicks().stored == 1
    assert _flags() == [True]


def _distinct_visitors(link, count: int, at: float) -> list[entries.ClickRow]:
    return [
        entries.click_row(
            entries.stream_entry(
                link.id,
                link.workspace_id,
                link.partner_id,
                entries.Visit(
                    click_id=f"n{n}", at=at + n, ip=f"198.51.{n // 200}.{n % 200}", user_agent=BROWSER, referrer=""
                ),
            )
        )
        for n in range(count)
    ]


def _plan(sql: str, params: list) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as write_batch does
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(line for (line,) in cursor.fetchall())


def test_latest_visits_are_looked_up_by_their_key_for_a_batch_of_distinct_visitors(link):
    # 2,000 distinct visitors in a batch: every one must be a primary-key lookup, not a pass over
    # LatestVisit (the old per-row probe once took 197 s for such a batch with a bad plan).
    writer.write_batch(_distinct_visitors(link, 2000, NOON))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_latestvisit")
    rows = _distinct_visitors(link, 2000, NOON + 3600)
    keys = [
        (row.workspace_id, row.link_id, digest) for row in rows for digest in (row.visitor_hash, row.prev_visitor_hash)
    ]
    plan = _plan(
        writer._LATEST_VISITS,
        [number_array(k[0] for k in keys), number_array(k[1] for k in keys), text_array([k[2] for k in keys])],
    )
    probes = [line for line in plan.splitlines() if "referrals_latestvisit" in line]
    assert len(probes) == 1 and "Index Scan using referrals_latestvisit_pkey" in probes[0], plan
    assert "Nested Loop" in plan, plan


def test_clicks_latest_visits_cannot_decide_probe_only_the_visitors_clicks_even_when_statistics_mislead(link):
    # One visitor's burst makes the statistics say every click is that visitor's; the exact check
    # for distinct visitors must still probe click_link_visitor rather than read the day's clicks.
    for n in range(300):
        _record(NOON + n)
    flush_clicks()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_click")
    rows = _distinct_visitors(link, 2000, NOON + 400)
    plan = _plan(
        writer.CLICKS_WITH_EARLIER_VISITS,
        [
            text_array([row.click_id for row in rows]),
            number_array(row.link_id for row in rows),
            text_array([row.visitor_hash for row in rows]),
            text_array([row.prev_visitor_hash for row in rows]),
            number_array(row.micros for row in rows),
        ],
    )
    probes = [line for line in plan.splitlines() if "referrals_click c" in line]
    assert len(probes) == 2 and all("Index Scan using click_link_visitor" in line for line in probes), plan
    assert writer.write_batch(rows) == 2000
    assert Click.objects.filter(click_id__startswith="n", is_unique=True).count() == 2000
