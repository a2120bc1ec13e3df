"""Idempotency-Key on every write of /api/v1/, with Stripe's rules (accounts/api_platform.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.api_platform import IDEMPOTENCY_TTL, WRITE_METHODS, purge_idempotency_keys
from accounts.models import IdempotencyKey
from accounts.services import create_api_key
from partners.models import Partner
from referrals.models import Link
from tests.accounts.factories import DomainFactory
from tests.attribution.integration_helpers import STRIPE_SECRET
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

PARTNER = {"name": "Northwind", "email": "hello@northwind.test"}


def send(client: Client, path: str, body: object, key: str | None = "key-1", method: str = "post"):
    headers = {"Idempotency-Key": key} if key else {}
    return getattr(client, method)(f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def link_body(workspace):
    DomainFactory(workspace=workspace, domain="shop.example.com")
    return {"partner_id": PartnerFactory(workspace=workspace).pk, "destination_url": "https://shop.example.com/a"}


def _other_client(other_workspace) -> Client:
    _, raw = create_api_key(workspace=other_workspace, name="Their key", created_by=None)
    return Client(headers={"authorization": f"Bearer {raw}"})


def test_a_partner_posted_again_with_the_key_and_another_body_is_a_409(api_client, workspace):
    send(api_client, "/partners", PARTNER)
    response = send(api_client, "/partners", {**PARTNER, "email": "other@northwind.test"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert Partner.objects.for_workspace(workspace).count() == 1


def test_a_link_posted_again_with_the_key_and_another_body_is_a_409(api_client, workspace, link_body):
    send(api_client, "/links", link_body)
    response = send(api_client, "/links", {**link_body, "destination_url": "https://shop.example.com/b"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert Link.objects.for_workspace(workspace).count() == 1


def test_a_partner_posted_again_with_the_key_and_body_gets_the_first_answer_and_no_second_row(api_client, workspace):
    first = send(api_client, "/partners", PARTNER)
    again = send(api_client, "/partners", PARTNER)
    assert (first.status_code, again.status_code) == (201, 201)  # the first answer, status included
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Partner.objects.for_workspace(workspace).count() == 1
    assert IdempotencyKey.objects.for_workspace(workspace).count() == 1


def test_a_link_posted_again_with_the_key_and_body_gets_the_first_answer_and_no_second_link(
    api_client, workspace, link_body
):
    first = send(api_client, "/links", link_body)
    again = send(api_client, "/links", link_body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Link.objects.for_workspace(workspace).count() == 1


def test_the_same_body_with_its_keys_in_another_order_is_the_same_request(api_client, workspace):
    send(api_client, "/partners", PARTNER)
    again = send(api_client, "/partners", dict(reversed(list(PARTNER.items()))))
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"


def test_the_same_key_in_two_workspaces_is_two_requests(api_client, workspace, other_workspace):
    ours = send(api_client, "/partners", PARTNER)
    theirs = send(_other_client(other_workspace), "/partners", {**PARTNER, "name": "Another"})
    assert (ours.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["id"] != ours.json()["id"] and theirs.json()["name"] == "Another"
    assert Partner.objects.for_workspace(other_workspace).count() == 1


def test_a_key_is_kept_a_day_and_may_be_used_again_after_the_cleanup(api_client, workspace):
    send(api_client, "/partners", PARTNER)
    assert purge_idempotency_keys() == 0
    assert send(api_client, "/partners", {**PARTNER, "email": "b@northwind.test"}).status_code == 409
    IdempotencyKey.objects.for_workspace(workspace).update(
        created_at=timezone.now() - IDEMPOTENCY_TTL - timedelta(minutes=1)
    )
    assert purge_idempotency_keys() == 1
    response = send(api_client, "/partners", {**PARTNER, "email": "b@northwind.test"})
    assert response.status_code == 201 and response.json()["email"] == "b@northwind.test"


def test_the_beat_task_purges_old_keys(api_client, workspace):
    from attribution.tasks import purge_idempotency_keys as purge_task

    send(api_client, "/partners", PARTNER)
    IdempotencyKey.objects.for_workspace(workspace).update(created_at=timezone.now() - timedelta(days=2))
    assert purge_task() == 1


def test_a_put_is_idempotent_too(api_client, workspace):
    first = send(api_client, "/integrations/stripe", {"signing_secret": STRIPE_SECRET}, method="put")
    again = send(api_client, "/integrations/stripe", {"signing_secret": STRIPE_SECRET}, method="put")
    assert (first.status_code, again.status_code) == (200, 200) and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    other = send(api_client, "/integrations/stripe", {"signing_secret": STRIPE_SECRET + "x"}, method="put")
    assert other.status_code == 409


def test_a_4xx_answered_by_the_endpoint_is_replayed_like_stripe(api_client, workspace, link_body):
    foreign = {**link_body, "partner_id": link_body["partner_id"] + 1000}
    first = send(api_client, "/links", foreign)
    assert first.status_code == 422
    again = send(api_client, "/links", foreign)
    assert (again.status_code, again.json()) == (422, first.json())
    assert again["Idempotent-Replayed"] == "true"


def test_a_body_refused_before_the_endpoint_ran_is_not_stored(api_client, workspace):
    assert send(api_client, "/partners", {"email": "x@northwind.test"}).status_code == 422  # no name
    assert send(api_client, "/partners", PARTNER).status_code == 201  # the same key, now a good body
    assert IdempotencyKey.objects.for_workspace(workspace).get().status_code == 201


def test_a_409_is_not_stored_so_the_retry_runs_again(api_client, workspace, link_body, other_workspace):
    from tests.referrals.factories import LinkFactory

    taken = LinkFactory(workspace=other_workspace, code="paula")
    assert send(api_client, "/links", {**link_body, "code": "paula"}).status_code == 409
    taken.delete()
    assert send(api_client, "/links", {**link_body, "code": "paula"}).status_code == 201


def test_a_key_longer_than_255_characters_is_refused_naming_the_header(api_client, workspace):
    response = send(api_client, "/partners", PARTNER, key="k" * 256)
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Partner.objects.exists()


def test_every_write_operation_of_the_api_goes_through_the_platform():
    from config.api import api

    # ninja's bound routers are where the API-level decorators end up; a new endpoint is listed here too.
    writes = [
        (method, operation.path)
        for router in api._get_bound_routers()
        for path_view in router.path_operations.values()
        for operation in path_view.operations
        for method in operation.methods
        if method in WRITE_METHODS
        if not getattr(operation.view_func, "writes_once", False)
    ]
    assert writes == []
    assert (
        len(
            [
                1
                for router in api._get_bound_routers()
                for view in router.path_operations.values()
                for operation in view.operations
                if set(operation.methods) & WRITE_METHODS
            ]
        )
        >= 14
    )


@pytest.mark.django_db(transaction=True)
def test_two_retries_racing_with_one_key_make_one_partner_and_get_one_answer(workspace):
    # A client that times out and retries at once sends the same request twice, concurrently: the key's
    # lock makes one of them write and the other replay its answer, never a second partner or a 500.
    import threading

    from django.db import connection

    _, raw = create_api_key(workspace=workspace, name="Racing key", created_by=None)
    for round_ in range(5):
        body = {"name": f"Racer {round_}", "email": f"racer{round_}@example.test"}
        start, answers = threading.Barrier(2), []

        def post(body=body, start=start, answers=answers, round_=round_):
            client = Client(headers={"authorization": f"Bearer {raw}"})
            try:
                start.wait()
                answers.append(send(client, "/partners", body, key=f"race-{round_}"))
            finally:
                connection.close()

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(a.status_code for a in answers) == [201, 201]
        assert answers[0].json() == answers[1].json()
        assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
        assert Partner.objects.for_workspace(workspace).filter(email=body["email"]).count() == 1
