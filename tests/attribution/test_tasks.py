"""The workers' side: the processing task, the sweeper, waking refunds, the hold release."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from attribution.inbox import accept_events
from attribution.models import Commission, InboundEvent
from attribution.processing import CHUNK, process_events
from attribution.tasks import enqueue_processing, process_inbound_events, sweep_inbound_events
from tests.attribution.conftest import lead, refund, sale, send

pytestmark = pytest.mark.django_db


def test_the_task_processes_the_events_it_is_given(workspace, anna):
    accept_events(workspace=workspace, events=[lead("l1", "cus_1", partner_id=anna.pk)], source="api")
    pk = InboundEvent.objects.for_workspace(workspace).get().pk
    assert process_inbound_events(workspace.pk, [pk]) == 1
    assert process_inbound_events(workspace.pk, [pk]) == 0  # running it twice changes nothing


def test_the_sweeper_enqueues_received_events_nobody_processed(workspace):
    accept_events(workspace=workspace, events=[sale("s1", "cus_1")], source="api")
    InboundEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    with mock.patch("attribution.tasks.process_inbound_events.apply_async") as send_task:
        assert sweep_inbound_events() == 1
    assert send_task.call_args.kwargs["args"][0] == workspace.pk


def test_the_sweeper_leaves_fresh_events_to_their_own_task(workspace):
    accept_events(workspace=workspace, events=[sale("s1", "cus_1")], source="api")
    with mock.patch("attribution.tasks.process_inbound_events.apply_async") as send_task:
        assert sweep_inbound_events() == 0
    send_task.assert_not_called()


def test_the_sweeper_waits_longer_each_time_a_refund_still_has_no_sale(workspace):
    send(workspace, refund("r1", "s_missing"))
    InboundEvent.objects.update(
        received_at=timezone.now() - timedelta(hours=1), attempts=4, attempted_at=timezone.now() - timedelta(minutes=10)
    )
    with mock.patch("attribution.tasks.process_inbound_events.apply_async"):
        assert sweep_inbound_events() == 0  # the 4th retry waits 16 minutes
        InboundEvent.objects.update(attempted_at=timezone.now() - timedelta(minutes=20))
        assert sweep_inbound_events() == 1


def test_a_refund_waiting_for_days_is_unattributed_and_woken_when_its_sale_arrives(workspace, anna):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), refund("r1", "s1", "50.00"))
    InboundEvent.objects.filter(event_id="r1").update(received_at=timezone.now() - timedelta(days=8))
    process_events(
        workspace_id=workspace.pk,
        event_ids=list(InboundEvent.objects.filter(event_id="r1").values_list("id", flat=True)),
    )
    assert InboundEvent.objects.get(event_id="r1").reason_code == "sale_not_found"
    send(workspace, sale("s1", "cus_1", "100.00"))
    assert InboundEvent.objects.get(event_id="r1").status == "attributed"
    assert Commission.objects.for_workspace(workspace).get().reversed_amount == 10


def test_settling_a_sale_enqueues_the_refunds_waiting_for_it(workspace, anna, django_capture_on_commit_callbacks):
    send(workspace, lead("l1", "cus_1", partner_id=anna.pk), refund("r1", "s1"))
    accept_events(workspace=workspace, events=[sale("s1", "cus_1")], source="api")
    sale_pk = InboundEvent.objects.get(event_id="s1").pk
    with mock.patch("attribution.tasks.process_inbound_events.apply_async") as send_task:
        with django_capture_on_commit_callbacks(execute=True):
            result = process_events(workspace_id=workspace.pk, event_ids=[sale_pk])
    refund_pk = InboundEvent.objects.get(event_id="r1").pk
    assert result.woken == [refund_pk]
    assert send_task.call_args.kwargs == {"args": [workspace.pk, [refund_pk]], "kwargs": {"wait": True}, "retry": False}


def test_enqueueing_splits_large_sets(workspace):
    with mock.patch("attribution.tasks.process_inbound_events.apply_async") as send_task:
        enqueue_processing(workspace.pk, list(range(2 * CHUNK + 500)))
    assert [len(call.kwargs["args"][1]) for call in send_task.call_args_list] == [CHUNK, CHUNK, 500]
