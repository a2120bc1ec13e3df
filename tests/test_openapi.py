"""/api/v1/openapi.json says what the API answers: errors, string amounts, integer ids, links."""

from __future__ import annotations

import re

import pytest

from accounts.api_document import USABLE_TEXT
from core.text import unusable_character

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json()


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def test_every_operation_documents_its_errors_with_the_error_schema(document):
    for method, path, operation in _operations(document):
        # A write's body can be too large or replay an Idempotency-Key with another body; a DELETE has neither.
        writes = method not in ("get", "delete")
        expected = {"401", "422"} | ({"404"} if "{" in path else set()) | ({"409", "413"} if writes else set())
        assert expected <= set(operation["responses"]), (method, path)
        error = operation["responses"]["422"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}


def test_amounts_are_strings_with_a_pattern_not_numbers(document):
    amount = document["components"]["schemas"]["SaleIn"]["properties"]["amount"]
    assert amount["type"] == "string" and "anyOf" not in amount
    assert re.match(amount["pattern"], "49.99") and not re.match(amount["pattern"], "1e3")


def test_ids_in_bodies_are_integers(document):
    ids = document["components"]["schemas"]["ApproveIn"]["properties"]["ids"]
    assert {"type": "array", "items": {"type": "integer", "minimum": 1}}.items() <= {
        "type": ids["anyOf"][0]["type"],
        "items": {k: v for k, v in ids["anyOf"][0]["items"].items() if k in ("type", "minimum")},
    }.items()


def test_the_stripe_signing_secret_is_constrained(document):
    fields = document["components"]["schemas"]["StripeSecretIn"]["properties"]
    # Both are optional (null or a string): the string's pattern is what is checked.
    patterns = {
        name: next(s["pattern"] for s in fields[name].get("anyOf", [fields[name]]) if "pattern" in s)
        for name in ("signing_secret", "secret_key")
    }
    assert patterns["signing_secret"].startswith("^whsec_")
    assert patterns["secret_key"].startswith("^(sk|rk)_")


def test_a_post_links_to_the_get_of_what_it_made(document):
    created = document["paths"]["/api/v1/partners"]["post"]["responses"]["201"]
    assert created["links"]["get_partner"]["operationId"] == "partners_api_get_partner"
    tracked = document["paths"]["/api/v1/track/sale"]["post"]["responses"]["202"]
    assert tracked["links"]["get_event"]["parameters"] == {"event_id": "$response.body#/event_id"}


def test_the_documents_text_pattern_is_core_texts_rule():
    pattern = re.compile(USABLE_TEXT)
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # lone surrogates: see USABLE_TEXT
        char = chr(code)
        assert bool(pattern.match(char)) == (unusable_character(char) is None), hex(code)


def test_every_writes_success_documents_the_replayed_header(document):
    writes = [(m, p, o) for m, p, o in _operations(document) if m in ("post", "put", "patch")]
    assert writes
    for method, path, operation in writes:
        for code, answer in operation["responses"].items():
            if code.startswith("2"):
                assert answer["headers"]["Idempotent-Replayed"]["schema"]["enum"] == ["true"], (method, path)
