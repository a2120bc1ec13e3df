"""Shared by the apps' batch work: the inbox processor, the batch API and PDF rendering."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around work that allocates many short-lived objects.

    A set of events (rows, dicts, Decimals) or a PDF's layout (boxes) allocates hundreds of
    thousands of objects; the collector's passes over them cost about a fifth of the time and free
    almost nothing. Reference counting still frees everything as usual, and any cycles left are
    collected once the collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
