"""The click buffer in Redis: its key names (per database), the consumer group, the process's client.

The redirect itself talks to Redis over a connection of its own (see recording._hot_connection).
"""

from __future__ import annotations

import redis
from django.conf import settings

GROUP = "flusher"  # the stream's consumer group

_client: redis.Redis | None = None


def client() -> redis.Redis:
    """One connection pool per process (redis-py resets it in a forked child)."""
    global _client
    if _client is None:
        # Timeouts so a stuck Redis fails the flusher and the cache calls instead of hanging them.
        _client = redis.Redis.from_url(
            settings.REDIS_URL, decode_responses=True, socket_timeout=2, socket_connect_timeout=1
        )
    return _client


def namespace() -> str:
    """Key prefix, per database: the dev server, each test database and the bench never share keys."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'tandem')}:ref:{settings.DATABASES['default']['NAME']}"


def link_key(code: str) -> str:
    return f"{namespace()}:link:{code}"


def stream_key() -> str:
    return f"{namespace()}:clicks"
