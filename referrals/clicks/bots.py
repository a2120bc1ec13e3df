"""Bot detection: user agents judged by crawlerdetect, when the flusher reads a click."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _crawler_detect() -> Any:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


# Set once the patterns are compiled; the redirect prepares them beside its first click (see
# recording._hot_connection) so that its database fallback never pays for the compilation.
bot_detection_ready = threading.Event()


def prepare_bot_detection() -> None:
    _crawler_detect().isCrawler("tandem warm-up")  # survives the exclusions, so both patterns compile
    bot_detection_ready.set()


@lru_cache(maxsize=20_000)
def is_bot(user_agent: str) -> bool:
    # Done here rather than in the redirect: the check costs ~0.1 ms, and user agents repeat a lot.
    if not user_agent.strip():
        return True
    return bool(_crawler_detect().isCrawler(user_agent))
