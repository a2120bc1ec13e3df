"""Every error of /api/ and /webhooks/ is the JSON error shape, in development and production mode alike."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

TWENTY_MB = b'{"events": ["' + b"x" * (20 * 1024 * 1024) + b'"]}'
# What production mode changes for these answers: no debug pages, and only the configured hosts.
PRODUCTION = {"DEBUG": False, "ALLOWED_HOSTS": ["tandem.example"]}
MODES = [pytest.param({}, id="development"), pytest.param(PRODUCTION, id="production")]


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


def _client(mode: dict, **headers) -> Client:
    return Client(HTTP_HOST="tandem.example" if mode else "testserver", **headers)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", ["/api/v1/events/batch", "/webhooks/stripe/acme/"])
def test_a_20_mb_body_is_a_json_413(api_key, mode, path):
    with override_settings(**{"DEBUG": True, **mode}):
        response = _client(mode, HTTP_AUTHORIZATION=f"Bearer {api_key}").post(
            path, TWENTY_MB, content_type="application/json"
        )
    assert response.status_code == 413
    assert _error(response)["code"] == "too_large"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/partners/", "/api/v2/partners", "/webhooks/nobody"])
def test_an_unknown_path_is_a_json_404(api_client, mode, path):
    with override_settings(**{"DEBUG": True, **mode}):
        response = _client(mode).post(path, "{}", content_type="application/json")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_method_is_a_json_405_that_names_the_allowed_ones(api_key, mode):
    with override_settings(**{"DEBUG": True, **mode}):
        response = _client(mode, HTTP_AUTHORIZATION=f"Bearer {api_key}").delete("/api/v1/partners")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


@pytest.mark.parametrize("mode", MODES)
def test_a_malformed_json_body_is_a_json_400(api_key, mode):
    with override_settings(**{"DEBUG": True, **mode}):
        response = _client(mode, HTTP_AUTHORIZATION=f"Bearer {api_key}").post(
            "/api/v1/track/sale", '{"event_id": ', content_type="application/json"
        )
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_body"


def test_a_host_production_does_not_serve_is_a_json_400(api_client):
    with override_settings(**PRODUCTION):
        response = Client(HTTP_HOST="evil.example").post("/api/v1/track/sale", "{}", content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["code"] == "bad_request"


def test_an_unknown_path_outside_the_api_is_still_the_html_page(db):
    with override_settings(DEBUG=False):
        response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_body_under_the_limit_still_reaches_the_endpoint(api_client):
    body = json.dumps({"events": [{"type": "lead"}] * 20_000})
    response = api_client.post("/api/v1/events/batch", body, content_type="application/json")
    assert response.status_code == 422
    assert "10,000" in _error(response)["message"]
