"""Click ids (the tclid a redirect adds to the destination) and the time each one was made."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_SORTABLE_DIGITS = "0123456789abcdefghijklmnopqrstuv"  # base32hex: sorts as its values do


def new_click_id(at: float) -> str:
    """A click id (tclid) of 20 characters that sorts by time: the millisecond in 9 base32hex digits,
    then 64 random bits in 11 URL-safe characters.

    Wholly random ids landed all over click_id_unique, so every click stored dirtied a page of that
    index of its own (and the first change of a page after a checkpoint writes it whole to the WAL):
    that was a third of the cost of storing a click. Ids in time order are appended at its end. A
    tclid is no secret (anyone gets a genuine one by clicking), it only has to be unique.
    """
    ms = int(at * 1000)
    return "".join([_SORTABLE_DIGITS[(ms >> shift) & 31] for shift in range(40, -1, -5)]) + secrets.token_urlsafe(8)


_CLICK_ID_SHAPE = re.compile(r"[0-9a-v]{9}[A-Za-z0-9_-]{11}")


def click_time(click_id: str) -> datetime | None:
    """When a click id of new_click_id was made (to the millisecond); None for an id of another shape."""
    if not isinstance(click_id, str) or not _CLICK_ID_SHAPE.fullmatch(click_id):
        return None
    return EPOCH + timedelta(milliseconds=int(click_id[:9], 32))  # base32hex is Python's base 32
