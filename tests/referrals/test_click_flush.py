"""The flusher: batches re-delivered after a crash are written exactly once, and only one flusher writes at a time."""

from __future__ import annotations

import pytest

from referrals.clicks import buffer, flusher, recording, writer
from referrals.clicks.buffer import GROUP
from referrals.clicks.entries import Visit, click_row, stream_entry
from referrals.clicks.flusher import flush_clicks
from referrals.models import Click
from tests.referrals.factories import LinkFactory


@pytest.fixture
def link(workspace, partner):
    return LinkFactory(workspace=workspace, partner=partner, code="paula")


def _visits(count: int) -> None:
    for n in range(count):
        recording.resolve_and_record(
            "paula",
            Visit(
                click_id=f"click-{n}",
                at=1_767_268_800.0 + n,
                ip=f"198.51.100.{n}",
                user_agent="Mozilla/5.0",
                referrer="",
            ),
        )


def _read_as_dead_consumer(count: int) -> list:
    """What a flusher does before it dies: read a batch (it is now pending for that consumer)."""
    r = buffer.client()
    flusher._ensure_group(r, buffer.stream_key())
    return r.xreadgroup(GROUP, "dead-flusher", {buffer.stream_key(): ">"}, count=count)[0][1]


def test_a_batch_left_pending_by_a_dead_flusher_is_taken_over(link):
    _visits(10)
    _read_as_dead_consumer(4)

    result = flush_clicks(claim_idle_ms=0)

    assert result.stored == 10
    assert Click.objects.count() == 10
    assert flusher.buffered_count() == 0


def test_pending_entries_younger_than_the_claim_age_wait(link):
    _visits(10)
    _read_as_dead_consumer(4)

    result = flush_clicks(claim_idle_ms=60_000)

    assert result.stored == 6
    assert flusher.buffered_count() == 4


def test_a_batch_committed_but_not_acknowledged_is_written_once(link):
    _visits(5)
    entries = _read_as_dead_consumer(5)
    # The dead flusher committed its batch and died before XACK.
    writer.write_batch([click_row(fields) for _, fields in entries])
    assert Click.objects.count() == 5

    result = flush_clicks(claim_idle_ms=0)

    assert (result.read, result.stored, result.skipped) == (5, 0, 5)
    assert Click.objects.count() == 5
    assert flusher.buffered_count() == 0


def test_the_same_batch_written_twice_keeps_its_uniqueness_flags(link):
    _visits(1)
    _visits(1)  # the same click ids again, as a re-delivery would bring them
    flush_clicks()
    assert list(Click.objects.values_list("click_id", "is_unique")) == [("click-0", True)]


def test_a_second_flusher_steps_aside_while_one_is_running(link):
    from django.db import connections

    _visits(3)
    # Another session holding the lock stands in for a running flusher.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [flusher._FLUSH_LOCK_KEY])
            result = flush_clicks()
            cursor.execute("SELECT pg_advisory_unlock(%s)", [flusher._FLUSH_LOCK_KEY])
    finally:
        other.close()
    assert result.busy
    assert not Click.objects.exists()
    assert flush_clicks().stored == 3


def test_a_malformed_entry_is_dropped_and_the_rest_written(link):
    _visits(2)
    buffer.client().xadd(buffer.stream_key(), {"l": "not-a-number", "d": "broken"})
    result = flush_clicks()
    assert (result.stored, result.malformed) == (2, 1)
    assert flusher.buffered_count() == 0


def test_flush_command_prints_a_summary(link, capsys):
    from django.core.management import call_command

    _visits(3)
    call_command("flush_clicks")
    assert "Flushed 3 clicks" in capsys.readouterr().out


def test_the_beat_task_flushes_the_buffer(link):
    from referrals.tasks import flush_click_buffer

    _visits(4)
    assert "4 stored" in flush_click_buffer.apply().get()
    assert Click.objects.count() == 4


def test_the_beat_schedule_runs_the_flusher_every_few_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["flush-clicks"]
    assert entry["task"] == "referrals.tasks.flush_click_buffer" and entry["schedule"] <= 10


def test_the_redirect_reloads_its_script_after_redis_forgot_it(link):
    buffer.client().script_flush()
    _visits(1)
    assert flush_clicks().stored == 1


def test_a_batch_partly_stored_already_writes_only_the_rest(link):
    _visits(6)
    entries = _read_as_dead_consumer(6)
    rows = [click_row(fields) for _, fields in entries]
    writer.write_batch(rows[:2])

    assert writer.write_batch(rows) == 4
    assert Click.objects.count() == 6


def test_an_entry_whose_click_id_could_break_the_batch_query_is_dropped_as_malformed(link):
    _visits(2)
    entry = stream_entry(
        link.id,
        link.workspace_id,
        link.partner_id,
        Visit(click_id='x"}', at=1_767_268_900.0, ip="198.51.100.1", user_agent="Mozilla/5.0", referrer=""),
    )
    buffer.client().xadd(buffer.stream_key(), entry)
    result = flush_clicks()
    assert (result.stored, result.malformed) == (2, 1)


def test_own_pending_entries_are_read_on_past_in_batches(link):
    _visits(10)
    r = buffer.client()
    flusher._ensure_group(r, buffer.stream_key())
    r.xreadgroup(GROUP, flusher._consumer_name(), {buffer.stream_key(): ">"}, count=10)  # a reused name

    result = flush_clicks(batch_size=3, claim_idle_ms=60_000)

    assert (result.read, result.stored, result.skipped) == (10, 10, 0)
    assert flusher.buffered_count() == 0


def test_entries_are_acknowledged_only_after_their_batches_are_on_disk(link, monkeypatch):
    def disk_unconfirmed():
        raise RuntimeError("PostgreSQL went away before the batch reached the disk")

    _visits(5)
    monkeypatch.setattr(flusher, "wait_for_earlier_commits", disk_unconfirmed)
    with pytest.raises(RuntimeError):
        flush_clicks()
    assert flusher.buffered_count() == 5  # still pending: a crash would have them read again

    monkeypatch.undo()
    assert (flush_clicks(claim_idle_ms=0).stored, Click.objects.count()) == (0, 5)
    assert flusher.buffered_count() == 0
