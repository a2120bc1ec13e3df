"""A sale that arrived with less information than a later event about the same customer is completed by it.

Stripe sends its events in no order: a subscription's first `invoice.paid` (a sale naming only the
customer) often arrives before the `checkout.session.completed` that carries the tclid or code
and makes the customer a referral. The sale was then rightly `no_partner`; once the referral
exists it is owed to the partner. So when a set creates referrals, the sales of those customers
left `no_partner` not long before the referral (since the winning click, or a day before the
lead) go back to `received` and are woken: processed again, they are credited once (a second
route of the same payment is a duplicate by its processor id), and the refunds that were set
aside as "sale not attributed" are woken when the sale settles (attribution.processing.finish.wake_refunds).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.sql import fetch_rows

# How long before the lead a sale of the customer still counts as the same purchase, when no click
# tells when the customer arrived.
BEFORE_LEAD = timedelta(days=1)
REASON = "Its customer became a partner's referral after this sale arrived: processed again."

# Through the partial index of `no_partner` events by customer (attribution_inboundevent's
# inboundevent_ws_cust_nopartner): a workspace may hold millions of sales of customers who are
# nobody's referral.
_REOPEN = """
UPDATE attribution_inboundevent AS e
SET status = 'received', reason = %s, reason_code = '', processed_at = NULL
FROM unnest(%s::text[], %s::timestamptz[]) AS c(customer, since)
WHERE e.workspace_id = %s AND e.reason_code = 'no_partner' AND e.customer_external_id = c.customer
  AND e.kind = 'sale' AND e.status = 'unattributed' AND NOT e.id = ANY(%s::bigint[])
  AND (e.payload->>'occurred_at')::timestamptz >= c.since
RETURNING e.id"""


def reopen_window_start(*, referred_at: datetime, clicked_at: datetime | None) -> datetime:
    """The earliest sale of a new referral's customer that the referral still explains."""
    since = referred_at - BEFORE_LEAD
    return min(since, clicked_at) if clicked_at is not None else since


def reopen_sales_before_referral(
    *, workspace_id: int, referrals: Sequence[tuple[str, datetime, datetime | None]], exclude: Sequence[int]
) -> list[int]:
    """Put back to `received` the `no_partner` sales of these (customer, referred_at, clicked_at)
    new referrals that the referral explains; returns their ids, to be woken."""
    if not referrals:
        return []
    customers = [customer for customer, _, _ in referrals]
    since = [reopen_window_start(referred_at=at, clicked_at=clicked) for _, at, clicked in referrals]
    rows = fetch_rows(_REOPEN, [REASON, customers, since, workspace_id, list(exclude)])
    return [pk for (pk,) in rows]
