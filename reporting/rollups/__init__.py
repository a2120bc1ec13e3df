"""The daily rollups of the funnel (models.py) and keeping them equal to the raw rows (refresh.py)."""

from reporting.rollups.refresh import (
    TIMING_BUCKET_BOUNDS,
    data_span,
    generation,
    rebuild,
    rebuild_workspace,
    refresh_days,
    refresh_range,
    refresh_recent,
    refresh_running,
    touched_days,
)

__all__ = [
    "TIMING_BUCKET_BOUNDS",
    "data_span",
    "generation",
    "rebuild",
    "rebuild_workspace",
    "refresh_days",
    "refresh_range",
    "refresh_recent",
    "refresh_running",
    "touched_days",
]
