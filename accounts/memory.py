"""Moved to core.memory (issue 12): kept only until the last module importing it from here is updated."""

from core.memory import gc_paused

__all__ = ["gc_paused"]
