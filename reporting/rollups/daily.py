"""The SQL that derives a range of days' rollup rows from the raw rows (refresh.py runs it).

Upstream tables and choice values come from reporting/rollups/upstream.py; the statements are
formatted once, at import. Query parameters: %(ws)s the workspace, [%(a)s, %(b)s) the instants,
[%(da)s, %(db)s) the days, [%(ma)s, %(mb)s) the months, %(buckets)s TIMING_BUCKET_BOUNDS.
"""

from __future__ import annotations

from reporting.rollups.upstream import choices, tables

# The measures every rollup row carries, in column order.
MEASURES = (
    "clicks, unique_clicks, bot_clicks, clicked_leads, clicked_customers, leads, converted_leads, customers, sales, sales_amount, "
    "refunds, refunds_amount, commission_pending, commission_approved, commission_paid, commission_rejected, "
    "commission_reversed, commission_net"
)
MEASURE_NAMES = tuple(m.strip() for m in MEASURES.split(","))
_SUMS = ", ".join(f"sum({m})" for m in MEASURE_NAMES)

# The slice a referral belongs to: its click's link, its code, and the channel/campaign of the link
# (else of the code). Used by every measure that hangs off a referral.
_REFERRAL_SLICE_JOINS = f"""
    JOIN {tables.referral} r ON r.id = {{ref}}
    LEFT JOIN {tables.click} rk ON rk.id = r.click_id
    LEFT JOIN {tables.link} rl ON rl.id = rk.link_id
    LEFT JOIN {tables.referral_code} rcode ON rcode.id = r.code_id
"""
_REFERRAL_SLICE = """rk.link_id, r.code_id, COALESCE(rl.channel, rcode.channel, ''),
    COALESCE(rl.campaign, rcode.campaign, ''), r.source"""

# A commission's slice is its referral's; a manual commission (a bonus) has no referral, and counts
# under the "manual" source with no link, code, channel or campaign.
_COMMISSION_SLICE_JOINS = "LEFT " + _REFERRAL_SLICE_JOINS.format(ref="m.referral_id").lstrip()
_COMMISSION_SLICE = _REFERRAL_SLICE.replace("r.source", f"COALESCE(r.source, {choices.source_manual})")

# Each customer's first sale, when it falls in the range.
_FIRST_SALES = f"""
first_sales AS (
    SELECT s.id, s.referral_id, s.occurred_at FROM {tables.conversion} s
    WHERE s.workspace_id = %(ws)s AND s.kind = {choices.sale} AND s.occurred_at >= %(a)s AND s.occurred_at < %(b)s
      AND NOT EXISTS (
        SELECT 1 FROM {tables.conversion} e
        WHERE e.workspace_id = %(ws)s AND e.referral_id = s.referral_id AND e.kind = {choices.sale}
          AND (e.occurred_at < s.occurred_at OR (e.occurred_at = s.occurred_at AND e.id < s.id)))
)"""

_HAS_BOUGHT = f"""EXISTS (SELECT 1 FROM {tables.conversion} s WHERE s.workspace_id = %(ws)s
                                          AND s.referral_id = r.id AND s.kind = {choices.sale})"""

# One row of `facts` per measure source; the final GROUP BY adds them up per slice.
# Measure order: clicks, unique_clicks, bot_clicks, clicked_leads, clicked_customers, leads, converted_leads,
# customers, sales, sales_amount, refunds, refunds_amount, pending, approved, paid, rejected,
# reversed, net.
_FACTS = f"""
WITH {_FIRST_SALES},
facts (day, program_id, partner_id, link_id, code_id, channel, campaign, source,
       clicks, unique_clicks, bot_clicks, clicked_leads, clicked_customers, leads, converted_leads, customers,
       sales, sales_amount, refunds, refunds_amount,
       commission_pending, commission_approved, commission_paid, commission_rejected,
       commission_reversed, commission_net) AS (
    SELECT (c.clicked_at AT TIME ZONE 'UTC')::date, l.program_id, c.partner_id, c.link_id, NULL::bigint,
           l.channel, l.campaign, {choices.source_link},
           count(*) FILTER (WHERE NOT c.is_bot), count(*) FILTER (WHERE NOT c.is_bot AND c.is_unique),
           count(*) FILTER (WHERE c.is_bot), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM {tables.click} c JOIN {tables.link} l ON l.id = c.link_id
    WHERE c.workspace_id = %(ws)s AND c.clicked_at >= %(a)s AND c.clicked_at < %(b)s
    GROUP BY 1, 2, 3, 4, 6, 7
  UNION ALL
    SELECT (c.clicked_at AT TIME ZONE 'UTC')::date, l.program_id, c.partner_id, c.link_id, NULL::bigint,
           l.channel, l.campaign, {choices.source_link}, 0, 0, 0, count(*),
           count(*) FILTER (WHERE {_HAS_BOUGHT}),
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM {tables.click} c JOIN {tables.link} l ON l.id = c.link_id
    JOIN {tables.referral} r ON r.click_id = c.id AND r.workspace_id = %(ws)s
    WHERE c.workspace_id = %(ws)s AND c.clicked_at >= %(a)s AND c.clicked_at < %(b)s AND NOT c.is_bot
    GROUP BY 1, 2, 3, 4, 6, 7
  UNION ALL
    SELECT (r.created_at AT TIME ZONE 'UTC')::date, r.program_id, r.partner_id, {_REFERRAL_SLICE},
           0, 0, 0, 0, 0, count(*),
           count(*) FILTER (WHERE {_HAS_BOUGHT}),
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM {tables.referral} r
    LEFT JOIN {tables.click} rk ON rk.id = r.click_id
    LEFT JOIN {tables.link} rl ON rl.id = rk.link_id
    LEFT JOIN {tables.referral_code} rcode ON rcode.id = r.code_id
    WHERE r.workspace_id = %(ws)s AND r.created_at >= %(a)s AND r.created_at < %(b)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  UNION ALL
    SELECT (f.occurred_at AT TIME ZONE 'UTC')::date, r.program_id, r.partner_id, {_REFERRAL_SLICE},
           0, 0, 0, 0, 0, 0, 0, count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM first_sales f {_REFERRAL_SLICE_JOINS.format(ref="f.referral_id")}
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  UNION ALL
    SELECT (v.occurred_at AT TIME ZONE 'UTC')::date, v.program_id, v.partner_id, {_REFERRAL_SLICE},
           0, 0, 0, 0, 0, 0, 0, 0,
           count(*) FILTER (WHERE v.kind = {choices.sale}),
           COALESCE(sum(v.amount) FILTER (WHERE v.kind = {choices.sale}), 0),
           count(*) FILTER (WHERE v.kind = {choices.refund}),
           COALESCE(sum(v.amount) FILTER (WHERE v.kind = {choices.refund}), 0),
           0, 0, 0, 0, 0, 0
    FROM {tables.conversion} v {_REFERRAL_SLICE_JOINS.format(ref="v.referral_id")}
    WHERE v.workspace_id = %(ws)s AND v.occurred_at >= %(a)s AND v.occurred_at < %(b)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  UNION ALL
    SELECT (m.occurred_at AT TIME ZONE 'UTC')::date, m.program_id, m.partner_id, {_COMMISSION_SLICE},
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status IN ({choices.pending}, {choices.in_review})), 0),
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status = {choices.approved}), 0),
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status = {choices.paid}), 0),
           COALESCE(sum(m.amount) FILTER (WHERE m.status = {choices.rejected}), 0),
           COALESCE(sum(m.reversed_amount) FILTER (WHERE m.status <> {choices.rejected}), 0),
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status <> {choices.rejected}), 0)
    FROM {tables.commission} m {_COMMISSION_SLICE_JOINS}
    WHERE m.workspace_id = %(ws)s AND m.occurred_at >= %(a)s AND m.occurred_at < %(b)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
)
"""

INSERT_ROLLUP = (
    _FACTS
    + f"""
INSERT INTO reporting_dailyrollup (workspace_id, day, program_id, partner_id, link_id, code_id, channel, campaign,
                                   source, currency, {MEASURES})
SELECT %(ws)s, f.day, f.program_id, f.partner_id, f.link_id, f.code_id, f.channel, f.campaign, f.source, p.currency,
       {_SUMS}
FROM facts f JOIN {tables.program} p ON p.id = f.program_id
GROUP BY f.day, f.program_id, f.partner_id, f.link_id, f.code_id, f.channel, f.campaign, f.source, p.currency
"""
)

INSERT_SUMMARY = f"""
INSERT INTO reporting_dailysummary (workspace_id, day, program_id, channel, source, currency, {MEASURES})
SELECT workspace_id, day, program_id, channel, source, currency, {_SUMS}
FROM reporting_dailyrollup
WHERE workspace_id = %(ws)s AND day >= %(da)s AND day < %(db)s
GROUP BY workspace_id, day, program_id, channel, source, currency
"""

# The first touch is the winning click, else the deal registration, else the lead itself.
INSERT_TIMING = f"""
WITH {_FIRST_SALES}
INSERT INTO reporting_customertiming (workspace_id, referral_id, day, program_id, partner_id, channel, source, currency,
                                      seconds, bucket)
SELECT t.*, width_bucket(t.seconds, %(buckets)s::bigint[]) FROM (
  SELECT %(ws)s, r.id, (f.occurred_at AT TIME ZONE 'UTC')::date, r.program_id, r.partner_id,
         COALESCE(rl.channel, rcode.channel, ''), r.source, p.currency,
         GREATEST(0, FLOOR(EXTRACT(EPOCH FROM f.occurred_at - COALESCE(rk.clicked_at, dr.created_at, r.created_at))))::bigint
           AS seconds
  FROM first_sales f
  JOIN {tables.referral} r ON r.id = f.referral_id
  JOIN {tables.program} p ON p.id = r.program_id
  LEFT JOIN {tables.click} rk ON rk.id = r.click_id
  LEFT JOIN {tables.link} rl ON rl.id = rk.link_id
  LEFT JOIN {tables.referral_code} rcode ON rcode.id = r.code_id
  LEFT JOIN {tables.deal_registration} dr ON dr.id = r.deal_registration_id
) t
ON CONFLICT (referral_id) DO UPDATE SET day = EXCLUDED.day, seconds = EXCLUDED.seconds, program_id = EXCLUDED.program_id,
    partner_id = EXCLUDED.partner_id, channel = EXCLUDED.channel, source = EXCLUDED.source, currency = EXCLUDED.currency,
    bucket = EXCLUDED.bucket
"""

# Time-to-conversion buckets: eight per doubling of the seconds, so that the bucket a percentile
# falls in holds a small share of the customers. Integer bounds keep the buckets in seconds order.
TIMING_BUCKET_BOUNDS: list[int] = sorted({int(2 ** (i / 8)) for i in range(8 * 40)})

INSERT_MONTHS = f"""
INSERT INTO reporting_monthlypartnerrollup (workspace_id, month, program_id, partner_id, channel, currency, {MEASURES})
SELECT workspace_id, date_trunc('month', day)::date, program_id, partner_id, channel, currency, {_SUMS}
FROM reporting_dailyrollup
WHERE workspace_id = %(ws)s AND day >= %(ma)s AND day < %(mb)s
GROUP BY workspace_id, date_trunc('month', day), program_id, partner_id, channel, currency
"""

# The first and last day with any raw row, for a rebuild without a range.
DATA_SPAN = f"""SELECT min(d), max(d) FROM (
     SELECT min(clicked_at) d FROM {tables.click} WHERE workspace_id = %(ws)s UNION ALL
     SELECT max(clicked_at) FROM {tables.click} WHERE workspace_id = %(ws)s UNION ALL
     SELECT min(created_at) FROM {tables.referral} WHERE workspace_id = %(ws)s UNION ALL
     SELECT max(created_at) FROM {tables.referral} WHERE workspace_id = %(ws)s UNION ALL
     SELECT min(occurred_at) FROM {tables.conversion} WHERE workspace_id = %(ws)s UNION ALL
     SELECT max(occurred_at) FROM {tables.conversion} WHERE workspace_id = %(ws)s UNION ALL
     SELECT min(occurred_at) FROM {tables.commission} WHERE workspace_id = %(ws)s UNION ALL
     SELECT max(occurred_at) FROM {tables.commission} WHERE workspace_id = %(ws)s) t"""

# Days whose rollups the rows created since %(s)s changed (see refresh.touched_days).
TOUCHED_DAYS = f"""
    SELECT DISTINCT (d AT TIME ZONE 'UTC')::date FROM (
      SELECT r.created_at d FROM {tables.referral} r WHERE r.workspace_id = %(ws)s AND r.created_at >= %(s)s
      UNION ALL
      SELECT k.clicked_at FROM {tables.referral} r JOIN {tables.click} k ON k.id = r.click_id
        WHERE r.workspace_id = %(ws)s AND r.created_at >= %(s)s
      UNION ALL
      SELECT v.occurred_at FROM {tables.conversion} v WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s
      UNION ALL
      SELECT r.created_at FROM {tables.conversion} v JOIN {tables.referral} r ON r.id = v.referral_id
        WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s
      UNION ALL
      SELECT k.clicked_at FROM {tables.conversion} v JOIN {tables.referral} r ON r.id = v.referral_id
        JOIN {tables.click} k ON k.id = r.click_id
        WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s
      UNION ALL
      -- A sale dated before the customer's first one takes its place: the day that counted the
      -- customer (its timing row, not yet refreshed) must drop it.
      SELECT t.day::timestamp AT TIME ZONE 'UTC' FROM {tables.conversion} v
        JOIN reporting_customertiming t ON t.referral_id = v.referral_id
        WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s AND t.workspace_id = %(ws)s
      UNION ALL
      -- A lead backfilled into the past is dated by when it happened, not when it arrived, so
      -- it is found through its event's processing time (the lead's day and its click's day).
      SELECT (e.payload->>'occurred_at')::timestamptz FROM {tables.inbound_event} e
        WHERE e.workspace_id = %(ws)s AND e.status = {choices.event_attributed} AND e.kind = {choices.event_lead}
          AND e.received_at >= %(s)s - interval '7 days' AND e.processed_at >= %(s)s
          AND e.payload ? 'occurred_at'
      UNION ALL
      SELECT k.clicked_at FROM {tables.inbound_event} e JOIN {tables.click} k ON k.click_id = e.payload->>'click_id'
        WHERE e.workspace_id = %(ws)s AND e.status = {choices.event_attributed} AND e.kind = {choices.event_lead}
          AND e.received_at >= %(s)s - interval '7 days' AND e.processed_at >= %(s)s
      UNION ALL
      SELECT m.occurred_at FROM {tables.commission} m WHERE m.workspace_id = %(ws)s
        AND (m.created_at >= %(s)s OR m.approved_at >= %(s)s OR m.paid_at >= %(s)s OR m.rejected_at >= %(s)s)
      UNION ALL
      SELECT m.occurred_at FROM {tables.commission_reversal} x JOIN {tables.commission} m ON m.id = x.commission_id
        WHERE x.workspace_id = %(ws)s AND x.created_at >= %(s)s
    ) t
"""

# The days of the clicks stored after click id %s, per workspace.
NEW_CLICK_DAYS = (
    f"SELECT workspace_id, (clicked_at AT TIME ZONE 'UTC')::date FROM {tables.click} WHERE id > %s GROUP BY 1, 2"
)
NEWEST_CLICK_ID = f"SELECT coalesce(max(id), 0) FROM {tables.click}"
