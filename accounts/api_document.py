"""The OpenAPI document of /api/v1/, made to say what the API answers.

Every operation can answer with the error shape for reasons that do not depend on the operation
(a missing key, unusable text, a malformed or oversized body, the database away), and some for
reasons its shape implies (an id in the path that names nothing, a write repeated with another
body). Rather than repeat them in each of forty decorators, they are added here from the
operation's method and path, all pointing at one `Error` schema.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable, for programs: invalid, unusable_text, not_found, "
                    "event_conflict, idempotency_conflict, too_large, ...",
                },
                "message": {"type": "string", "description": "A sentence for the person reading it"},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "The fields at fault, each with what is wrong with it",
                },
            },
        }
    },
}
_REASONS = {
    400: "The body is not valid JSON",
    401: "No valid workspace API key",
    404: "Nothing with this id in this workspace",
    409: "The same event_id or Idempotency-Key was used with a different body",
    413: "The body is over the size limit",
    422: "A field is missing or invalid (named in `fields`)",
    503: "The database cannot be reached; nothing was recorded",
}
_WRITES = {"post", "put", "patch"}
# core.text's rule as a JSON Schema pattern (tests/test_openapi.py holds the two together): what the
# edge refuses is outside the document, so a schema-valid string is one Tandem can store.
USABLE_TEXT = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]*$"
# (Lone surrogates, which core.text also refuses, cannot be written in a JSON Schema regex: no generator sends them.)


def _referenced(node: Any, components: dict[str, Any], found: set[str] | None = None) -> set[str]:
    """The names of the component schemas `node` refers to, directly or through others."""
    found = set() if found is None else found
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in found and name in components:
                found.add(name)
                _referenced(components[name], components, found)
        for value in node.values():
            _referenced(value, components, found)
    elif isinstance(node, list):
        for item in node:
            _referenced(item, components, found)
    return found


def _usable_strings(node: Any) -> None:
    """Give every free-text string (no pattern, format or enum of its own) and every object's keys the text rule."""
    if isinstance(node, list):
        for item in node:
            _usable_strings(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not ({"pattern", "format", "enum", "const"} & node.keys()):
        node["pattern"] = USABLE_TEXT
    if node.get("type") == "object" and node.get("additionalProperties") is not False:
        node.setdefault("propertyNames", {"pattern": USABLE_TEXT})
    for key, value in node.items():
        if key not in ("examples", "example", "default", "links"):
            _usable_strings(value)


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": _REASONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document_errors(schema: dict[str, Any], links: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """Add the error answers to every operation, and the `links` from a write to where its result is read.

    `links` maps (method, path) to OpenAPI link objects, keyed by name, for the operation's 2xx answers.
    """
    # Only what is sent: an answer may quote back what was refused (a batch's error names the field).
    components = schema.get("components", {}).get("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            _usable_strings(operation.get("parameters", []))
            _usable_strings(operation.get("requestBody", {}))
            for name in _referenced(operation.get("requestBody", {}), components):
                _usable_strings(components[name])
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _WRITES | {"get", "delete"}:
                continue
            statuses = [401, 422, 503]
            if "{" in path:
                statuses.append(404)
            if method in _WRITES:
                statuses += [400, 409, 413]
            # ninja keys its own answers by int; one kind of key, or both "404" and 404 would be listed.
            responses = operation["responses"] = {str(k): v for k, v in operation.get("responses", {}).items()}
            for status in statuses:
                responses.setdefault(str(status), _error_response(status))
            for code, answer in responses.items():
                if code.startswith("2") and (method, path) in links:
                    answer["links"] = links[(method, path)]
                if method in _WRITES and code.startswith("2"):
                    answer.setdefault("headers", {})["Idempotent-Replayed"] = REPLAYED_HEADER
    return schema


# On a write sent again with its Idempotency-Key and the same body: the first answer, replayed.
REPLAYED_HEADER = {
    "description": 'Present ("true") when this is the stored answer to an earlier request with the same '
    "Idempotency-Key and body; the write was not made again.",
    "schema": {"type": "string", "enum": ["true"]},
}


class DocumentedNinjaAPI(NinjaAPI):
    """NinjaAPI whose document lists every error an operation answers (see document_errors)."""

    links: dict[tuple[str, str], dict[str, Any]] = {}

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_errors(schema, self.links)
