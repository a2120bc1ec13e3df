"""POST /api/v1/track/* and /api/v1/events/batch: validation, duplicates and Idempotency-Key."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import OperationalError

from accounts.models import IdempotencyKey
from attribution.api import BatchAnswer
from attribution.models import InboundEvent

pytestmark = pytest.mark.django_db

SALE = {"event_id": "ord_1", "customer_external_id": "cus_1", "amount": "49.99", "currency": "USD"}


def post(client, path, body, **headers):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers)


def test_a_sale_is_accepted_with_202(api_client, workspace):
    response = post(api_client, "/track/sale", SALE)
    assert response.status_code == 202
    assert response.json() == {"event_id": "ord_1", "status": "accepted"}
    stored = InboundEvent.objects.for_workspace(workspace).get()
    assert (stored.kind, stored.source, stored.status, stored.payload["amount"]) == ("sale", "api", "received", "49.99")


def test_the_same_event_id_again_is_a_duplicate_with_200(api_client, workspace):
    post(api_client, "/track/sale", SALE)
    response = post(api_client, "/track/sale", SALE)
    assert (response.status_code, response.json()["status"]) == (200, "duplicate")
    assert InboundEvent.objects.for_workspace(workspace).count() == 1


def test_an_amount_sent_as_a_json_number_is_refused_with_a_clear_reason(api_client, workspace):
    response = post(api_client, "/track/sale", {**SALE, "amount": 49.99})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "decimal string" in error["fields"]["amount"][0]
    assert not InboundEvent.objects.exists()


def test_an_unknown_currency_is_refused(api_client):
    response = post(api_client, "/track/sale", {**SALE, "currency": "XYZ"})
    assert response.status_code == 422
    assert "ISO 4217" in response.json()["error"]["fields"]["currency"][0]


def test_a_negative_amount_is_refused(api_client):
    response = post(api_client, "/track/sale", {**SALE, "amount": "-1.00"})
    assert response.status_code == 422 and "amount" in response.json()["error"]["fields"]


def test_a_misspelt_field_is_refused_rather_than_ignored(api_client):
    response = post(api_client, "/track/sale", {**SALE, "amout": "1.00"})
    assert response.status_code == 422 and "amout" in response.json()["error"]["fields"]


def test_a_lead_needs_a_click_a_code_or_a_partner(api_client):
    response = post(api_client, "/track/lead", {"customer_external_id": "cus_1"})
    assert response.status_code == 422 and "click_id" in response.json()["error"]["fields"]


def test_a_lead_without_event_id_sent_twice_is_one_lead(api_client, workspace):
    lead = {"customer_external_id": "cus_1", "code": "ANNA10"}
    first, second = post(api_client, "/track/lead", lead), post(api_client, "/track/lead", lead)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["event_id"] == second.json()["event_id"]


def test_a_lead_takes_its_event_id_from_the_idempotency_key(api_client):
    response = post(
        api_client, "/track/lead", {"customer_external_id": "cus_1", "code": "X"}, **{"Idempotency-Key": "k-1"}
    )
    assert response.json()["event_id"] == "lead:k-1"


def test_a_refund_is_accepted_before_its_sale(api_client, workspace):
    response = post(api_client, "/track/refund", {"event_id": "re_1", "sale_event_id": "ord_1"})
    assert response.status_code == 202
    assert InboundEvent.objects.for_workspace(workspace).get().related_event_id == "ord_1"


def test_the_same_idempotency_key_and_body_replays_the_first_answer(api_client, workspace):
    first = post(api_client, "/track/sale", SALE, **{"Idempotency-Key": "key-1"})
    again = post(api_client, "/track/sale", SALE, **{"Idempotency-Key": "key-1"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json() == {"event_id": "ord_1", "status": "accepted"}
    assert IdempotencyKey.objects.for_workspace(workspace).count() == 1


def test_the_same_idempotency_key_with_another_body_is_a_conflict(api_client, workspace):
    post(api_client, "/track/sale", SALE, **{"Idempotency-Key": "key-1"})
    response = post(api_client, "/track/sale", {**SALE, "amount": "50.00"}, **{"Idempotency-Key": "key-1"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert InboundEvent.objects.for_workspace(workspace).count() == 1


def test_idempotency_keys_are_per_workspace(api_client, workspace, other_workspace):
    IdempotencyKey.objects.create(
        workspace=other_workspace,
        key="key-1",
        request_hash="x" * 64,
        status_code=202,
        response={"event_id": "theirs", "status": "accepted"},
    )
    assert post(api_client, "/track/sale", SALE, **{"Idempotency-Key": "key-1"}).json()["event_id"] == "ord_1"


def test_a_batch_accepts_the_valid_events_and_names_the_invalid_ones_by_index(api_client, workspace):
    events = [
        {"type": "sale", **SALE},
        {"type": "sale", **SALE, "event_id": "ord_2", "amount": 10},
        {"type": "refund", "event_id": "re_1", "sale_event_id": "ord_1", "amount": "5.00"},
        {"type": "lead", "customer_external_id": "cus_9", "partner_id": 1},
        {"type": "gift"},
        {"type": "sale", **SALE},
    ]
    response = post(api_client, "/events/batch", {"events": events})
    assert response.status_code == 202
    body = response.json()
    assert [(r["index"], r["status"]) for r in body["results"]] == [
        (0, "accepted"),
        (2, "accepted"),
        (3, "accepted"),
        (5, "duplicate"),
    ]
    assert [(e["index"], sorted(e["fields"])) for e in body["errors"]] == [(1, ["amount"]), (4, ["type"])]
    assert InboundEvent.objects.for_workspace(workspace).count() == 3


def test_a_batch_answer_is_exactly_the_documented_schema(api_client, workspace):
    events = [
        {"type": "sale", **SALE},
        {"type": "sale", **SALE, "event_id": "ord_2", "amount": 10},
        {"type": "sale", **SALE},
    ]
    response = post(api_client, "/events/batch", {"events": events})
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert BatchAnswer.model_validate(body).model_dump() == body
    assert body == {
        "results": [
            {"index": 0, "event_id": "ord_1", "status": "accepted"},
            {"index": 2, "event_id": "ord_1", "status": "duplicate"},
        ],
        "errors": [{"index": 1, "fields": body["errors"][0]["fields"]}],
    }


def test_a_batch_sent_again_with_its_idempotency_key_gets_the_first_answer(api_client, workspace):
    events = [{"type": "sale", **SALE}]
    first = post(api_client, "/events/batch", {"events": events}, **{"Idempotency-Key": "batch-1"})
    again = post(api_client, "/events/batch", {"events": events}, **{"Idempotency-Key": "batch-1"})
    assert (
        (again.status_code, again.json())
        == (first.status_code, first.json())
        == (202, {"results": [{"index": 0, "event_id": "ord_1", "status": "accepted"}], "errors": []})
    )
    assert InboundEvent.objects.for_workspace(workspace).count() == 1


def test_a_batch_of_more_than_ten_thousand_events_is_refused(api_client):
    response = post(api_client, "/events/batch", {"events": [{"type": "lead"}] * 10_001})
    assert response.status_code == 422 and "10,000" in response.json()["error"]["message"]


def test_accepting_does_not_fail_when_the_broker_is_down(api_client, workspace, django_capture_on_commit_callbacks):
    with mock.patch("attribution.tasks.process_inbound_events.apply_async", side_effect=ConnectionError("redis down")):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(api_client, "/track/sale", SALE)
    assert response.status_code == 202
    assert InboundEvent.objects.for_workspace(workspace).get().status == "received"


def test_accepted_events_are_enqueued_after_commit(api_client, workspace, django_capture_on_commit_callbacks):
    with mock.patch("attribution.tasks.process_inbound_events.apply_async") as send:
        with django_capture_on_commit_callbacks(execute=True):
            post(api_client, "/track/sale", SALE)
    stored = InboundEvent.objects.for_workspace(workspace).get()
    assert send.call_args.kwargs["args"] == [workspace.pk, [stored.pk]]


def test_the_database_being_down_is_a_503_never_a_2xx(api_client):
    with mock.patch("attribution.services.accept_events", side_effect=OperationalError("connection refused")):
        response = post(api_client, "/track/sale", SALE)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_tracking_needs_an_api_key(client):
    assert post(client, "/track/sale", SALE).status_code == 401
