"""A buffered click's stream entry, both ways: written from a visit by the redirect, read back as a
row to store by the flusher.

An entry is two fields: l = "link:workspace:partner" ids, d = the visit (see visit_record). The
raw IP address goes no further than visit_record: the entry carries its digests (see hashing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from referrals.clicks.bots import is_bot
from referrals.clicks.hashing import ip_hash, visitor_hash
from referrals.clicks.ids import EPOCH

SEP = "\x1f"  # ASCII unit separator: cannot occur in an HTTP header value
USER_AGENT_MAX = 512
REFERRER_MAX = 2000


@dataclass(frozen=True)
class Visit:
    click_id: str
    at: float
    ip: str
    user_agent: str
    referrer: str


def visit_record(visit: Visit) -> str:
    """The visit as one stream field: click id, time, IP hash, visitor hash today and under
    yesterday's salt, user agent, referrer. The raw IP goes no further than this function."""
    day = datetime.fromtimestamp(visit.at, UTC).date()
    user_agent = visit.user_agent[:USER_AGENT_MAX].replace(SEP, " ")
    return SEP.join(
        (
            visit.click_id,
            f"{visit.at:.6f}",
            ip_hash(visit.ip, day),
            visitor_hash(visit.ip, user_agent, day),
            visitor_hash(visit.ip, user_agent, day - timedelta(days=1)),
            user_agent,
            visit.referrer[:REFERRER_MAX].replace(SEP, " "),
        )
    )


def stream_entry(link_id: int, workspace_id: int, partner_id: int, visit: Visit) -> dict[str, str]:
    return {"l": f"{link_id}:{workspace_id}:{partner_id}", "d": visit_record(visit)}


# A click id from new_click_id (or a test's readable one) and hex digests: anything else in an
# entry is not a click the redirect recorded.
_PLAIN_KEYS = re.compile(r"[A-Za-z0-9_.:-]{1,32} [0-9a-f]{1,64} [0-9a-f]{1,64}")


class ClickRow(NamedTuple):
    """A buffered click, ready to be written (see write_batch)."""

    click_id: str
    link_id: int
    workspace_id: int
    clicked_at: datetime
    ip_hash: str
    visitor_hash: str
    prev_visitor_hash: str
    user_agent: str
    referrer: str
    is_bot: bool
    micros: int  # clicked_at in microseconds since the epoch, the unit uniqueness is decided in


def click_row(fields: dict[str, str]) -> ClickRow:
    link_id, workspace_id, _partner_id = fields["l"].split(":")
    click_id, at, ip_digest, visitor, previous, user_agent, referrer = fields["d"].split(SEP)
    if not _PLAIN_KEYS.fullmatch(f"{click_id} {visitor} {previous}"):
        raise ValueError("click id or visitor digest out of shape")
    micros = round(float(at) * 1_000_000)
    # _make: a third cheaper than ClickRow(...), whose __new__ takes keywords.
    return ClickRow._make(
        (
            click_id,
            int(link_id),
            int(workspace_id),
            EPOCH + timedelta(microseconds=micros),
            ip_digest[:64],
            visitor,
            previous,
            user_agent[:USER_AGENT_MAX],
            referrer[:REFERRER_MAX],
            is_bot(user_agent),
            micros,
        )
    )
