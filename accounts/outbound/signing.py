"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the `standardwebhooks` library."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from math import floor

from standardwebhooks import Webhook

SECRET_BYTES = 32


def new_secret() -> str:
    """`whsec_` and the base64 of random bytes: the format every Standard Webhooks library reads."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(*, secret: str, message_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    """The three headers a receiver verifies the body with. The id stays the same across retries (the
    receiver's key for "seen it already"); the timestamp is the attempt's, so a retry is not stale."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body),
    }
