"""An event naming a click still in the click buffer waits for it, then is credited; bounded by CLICK_WAIT."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from attribution.inbox import accept_events
from attribution.models import Commission, InboundEvent
from attribution.processing import process_events
from attribution.tasks import process_inbound_events, sweep_inbound_events
from config.celery import app
from referrals.clicks import buffer, flusher
from referrals.clicks.flusher import flush_clicks, flushed_through
from referrals.clicks.ids import click_time, new_click_id
from referrals.models import Referral
from tests.attribution.conftest import lead, sale, send
from tests.referrals.conftest import _clear_buffer
from tests.referrals.factories import LinkFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture(autouse=True)
def clean_click_buffer(db):
    _clear_buffer()
    yield
    _clear_buffer()


@pytest.fixture
def link(workspace, anna):
    return LinkFactory(
        workspace=workspace,
        partner=anna,
        program=anna.program,
        code="anna-link",
        destination_url="https://shop.example.com/",
    )


@pytest.fixture
def eager():
    """Enqueued tasks run at once, in this process (the worker's code path, without a worker)."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def click_through(client, link) -> str:
    """A visit to the short link: the click is in the buffer, not yet in PostgreSQL. Returns its tclid."""
    response = client.get(f"/r/{link.code}", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER)
    return parse_qs(urlsplit(response["Location"]).query)["tclid"][0]


def event(event_id: str) -> InboundEvent:
    return InboundEvent.objects.get(event_id=event_id)


@contextmanager
def another_flusher_running() -> Iterator[None]:
    """Another flusher holds the flush lock (from its own database session)."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [flusher._FLUSH_LOCK_KEY])
        yield


def test_a_click_id_tells_when_the_click_was_made():
    at = datetime(2026, 12, 7, 10, 30, 15, 250_000, tzinfo=UTC)
    assert click_time(new_click_id(at.timestamp())) == at
    assert click_time("click-1") is None


def test_the_flushed_mark_is_the_oldest_click_not_yet_written(client, link):
    before = datetime.now(UTC) - timedelta(seconds=1)
    click_through(client, link)
    time.sleep(0.01)
    assert before <= flushed_through() < datetime.now(UTC) - timedelta(milliseconds=5)
    flush_clicks()
    assert flushed_through() > datetime.now(UTC) - timedelta(seconds=1)


def test_a_lead_sent_before_its_click_is_stored_is_credited_once_the_click_lands(
    client, link, anna, workspace, eager, django_capture_on_commit_callbacks
):
    tclid = click_through(client, link)
    with django_capture_on_commit_callbacks(execute=True):
        accept_events(
            workspace=workspace, events=[lead("l1", "cus_1", click_id=tclid, occurred_at=timezone.now())], source="api"
        )
    assert event("l1").status == "attributed"
    assert Referral.objects.for_workspace(workspace).get(customer_external_id="cus_1").partner_id == anna.pk

    send(workspace, sale("s1", "cus_1", "100.00", occurred_at=timezone.now()))
    commission = Commission.objects.for_workspace(workspace).get()
    assert (commission.partner_id, commission.amount) == (anna.pk, Decimal("20.00"))


def test_a_lead_waits_while_the_flusher_is_busy_and_is_credited_when_the_click_is_written(
    client, link, anna, workspace, django_capture_on_commit_callbacks
):
    tclid = click_through(client, link)
    accept_events(
        workspace=workspace, events=[lead("l1", "cus_1", click_id=tclid, occurred_at=timezone.now())], source="api"
    )
    with another_flusher_running(), mock.patch("attribution.tasks.process_inbound_events.apply_async") as send_task:
        with django_capture_on_commit_callbacks(execute=True):
            process_events(workspace_id=workspace.pk, event_ids=[event("l1").pk])
    waiting = event("l1")
    assert (waiting.status, waiting.reason_code) == ("received", "waiting_for_click")
    assert f"Waiting for click {tclid}" in waiting.reason
    assert send_task.call_args.kwargs["countdown"] >= 1  # tried again shortly, not at once

    flush_clicks()  # the busy flusher writes the click
    process_inbound_events(workspace.pk, [waiting.pk])
    assert event("l1").status == "attributed"
    assert Referral.objects.for_workspace(workspace).get(customer_external_id="cus_1").partner_id == anna.pk


def test_a_sale_naming_a_click_in_the_buffer_waits_for_it_too(client, link, anna, workspace):
    tclid = click_through(client, link)
    send(workspace, sale("s1", "cus_1", "100.00", click_id=tclid, occurred_at=timezone.now()))
    assert event("s1").reason_code == "waiting_for_click"

    flush_clicks()
    process_inbound_events(workspace.pk, [event("s1").pk])
    assert Commission.objects.for_workspace(workspace).get().amount == Decimal("20.00")


def test_a_lead_naming_a_click_long_before_the_flushed_mark_is_unknown_at_once(workspace, anna):
    never_stored = new_click_id(time.time() - 3600)
    send(workspace, lead("l1", "cus_1", click_id=never_stored, occurred_at=timezone.now()))
    assert (event("l1").status, event("l1").reason_code) == ("unattributed", "unknown_click")


def test_a_waiting_lead_becomes_unknown_click_after_the_click_wait(client, link, workspace, anna, settings):
    click_through(client, link)  # an older click still in the buffer keeps the flushed mark behind
    never_buffered = new_click_id(time.time())
    send(workspace, lead("l1", "cus_1", click_id=never_buffered, occurred_at=timezone.now()))
    assert event("l1").reason_code == "waiting_for_click"

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CLICK_WAIT_SECONDS - 30)):
        process_events(workspace_id=workspace.pk, event_ids=[event("l1").pk])
        assert event("l1").reason_code == "waiting_for_click"
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CLICK_WAIT_SECONDS + 1)):
        process_events(workspace_id=workspace.pk, event_ids=[event("l1").pk])
    assert (event("l1").status, event("l1").reason_code) == ("unattributed", "unknown_click")


def test_a_lead_waits_for_its_click_while_redis_cannot_be_asked(workspace, anna):
    redis_down = buffer.redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with mock.patch.object(buffer, "_client", redis_down):
        send(workspace, lead("l1", "cus_1", click_id=new_click_id(time.time() - 3600), occurred_at=timezone.now()))
    assert event("l1").reason_code == "waiting_for_click"


def test_the_sale_after_a_waiting_lead_waits_with_it(client, link, anna, workspace):
    tclid = click_through(client, link)
    send(
        workspace,
        lead("l1", "cus_1", click_id=tclid, occurred_at=timezone.now()),
        sale("s1", "cus_1", "100.00", occurred_at=timezone.now()),
    )
    assert event("s1").status == "received"

    flush_clicks()
    process_inbound_events(workspace.pk, [event("l1").pk, event("s1").pk])
    assert Commission.objects.for_workspace(workspace).get().amount == Decimal("20.00")


def test_the_sweeper_retries_an_event_waiting_for_its_click_at_every_sweep(client, link, workspace, anna):
    send(workspace, lead("l1", "cus_1", click_id=click_through(client, link), occurred_at=timezone.now()))
    InboundEvent.objects.update(
        received_at=timezone.now() - timedelta(minutes=3),
        attempts=6,
        attempted_at=timezone.now() - timedelta(minutes=2),
    )
    with mock.patch("attribution.tasks.process_inbound_events.apply_async"):
        assert sweep_inbound_events() == 1


def test_healthz_tells_how_far_behind_the_click_flusher_is_and_who_waits(client, link, workspace, anna):
    tclid = click_through(client, link)
    send(workspace, lead("l1", "cus_1", click_id=tclid, occurred_at=timezone.now()))

    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["clicks_buffered"] == 1
    assert body["click_flusher_lag_seconds"] >= 0
    assert body["events_waiting_for_click"] == 1


def test_the_events_page_says_how_soon_clicks_are_stored_and_who_waits_for_one(
    client, link, workspace, anna, viewer_client
):
    send(workspace, lead("l1", "cus_1", click_id=click_through(client, link), occurred_at=timezone.now()))

    page = viewer_client.get(reverse("inbound_events", args=[workspace.slug])).content.decode()
    assert "Clicks are stored within" in page
    assert "(1 on their way)" in page
    assert "1 event waiting for its click." in page
