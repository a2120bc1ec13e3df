"""Tandem's Stripe signature check against the official library's, case by case."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from attribution.integrations.stripe import verify_signature
from attribution.integrations.webhooks import WebhookRejected
from tests.attribution.integration_helpers import STRIPE_SECRET, stripe_header, stripe_signature

BODY = json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid", "data": {"object": {"id": "in_1"}}})
NOW = int(time.time())


def _cases() -> dict[str, tuple[str, str | None]]:
    """name -> (body as delivered, Stripe-Signature header)."""
    return {
        "valid": (BODY, stripe_header(BODY)),
        "tampered body": (BODY.replace("in_1", "in_2"), stripe_header(BODY)),
        "wrong secret": (BODY, stripe_header(BODY, "whsec_someone_elses_secret_123")),
        "old timestamp": (BODY, stripe_header(BODY, timestamp=NOW - 301)),
        "just inside the window": (BODY, stripe_header(BODY, timestamp=NOW - 200)),
        "future timestamp": (BODY, stripe_header(BODY, timestamp=NOW + 3600)),
        "multiple v1, one valid": (BODY, f"t={NOW},v1={'0' * 64},v1={stripe_signature(BODY, timestamp=NOW)},v0=abc"),
        "multiple v1, none valid": (BODY, f"t={NOW},v1={'0' * 64},v1={'f' * 64}"),
        "only a v0 signature": (BODY, f"t={NOW},v0={stripe_signature(BODY, timestamp=NOW)}"),
        "missing header": (BODY, None),
        "garbage header": (BODY, "not-a-signature"),
        "signature for another timestamp": (BODY, f"t={NOW},v1={stripe_signature(BODY, timestamp=NOW - 1)}"),
    }


def _library_accepts(body: str, header: str | None) -> bool:
    try:
        stripe.WebhookSignature.verify_header(body, header, STRIPE_SECRET, tolerance=300)
    except stripe.SignatureVerificationError:
        return False
    return True


def _tandem_accepts(body: str, header: str | None) -> bool:
    try:
        verify_signature(payload=body.encode(), header=header, secret=STRIPE_SECRET)
    except WebhookRejected:
        return False
    return True


@pytest.mark.parametrize("case", [name for name in _cases() if name != "future timestamp"])
def test_tandem_accepts_exactly_what_the_stripe_library_accepts(case):
    body, header = _cases()[case]
    assert _tandem_accepts(body, header) == _library_accepts(body, header)


def test_a_timestamp_far_in_the_future_is_refused_though_the_library_accepts_it():
    body, header = _cases()["future timestamp"]
    assert _library_accepts(body, header)
    assert not _tandem_accepts(body, header)


def test_the_generated_signatures_are_the_ones_the_library_generates():
    header = stripe.WebhookSignature.generate_signature_header(BODY, STRIPE_SECRET, timestamp=NOW)
    assert header == stripe_header(BODY, timestamp=NOW)


def test_a_body_that_is_not_utf8_is_refused():
    with pytest.raises(WebhookRejected) as caught:
        verify_signature(payload=b"\xff\xfe", header=stripe_header("x"), secret=STRIPE_SECRET)
    assert caught.value.status == 400
