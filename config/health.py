"""GET /healthz: the database, the broker and the click flusher, for load balancers and operators.

In config/ because it reads several apps (accounts may not import referrals or attribution).
"""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from attribution.click_wait import click_buffer_state


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The state of the database and the broker (503 when either is down), and how far behind the click
    flusher is: `click_flusher_lag_seconds` (age of the oldest click not yet stored), `clicks_buffered`,
    and `events_waiting_for_click` (leads and sales held until their click is stored)."""
    state: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        state["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down" here
        state["database"] = f"error: {type(exc).__name__}"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        state["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        state["broker"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in state.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded", **state}
    if state["database"] == "ok":
        buffer = click_buffer_state()
        body.update(
            click_flusher_lag_seconds=buffer.lag_seconds,
            clicks_buffered=buffer.buffered,
            events_waiting_for_click=buffer.waiting_events,
        )
    return JsonResponse(body, status=200 if healthy else 503)
