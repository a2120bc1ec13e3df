"""Every metric of Tandem's reports, defined once.

The manager dashboard, the partner detail page, the portal, the CSV exports and
`GET /api/v1/partners/{id}/stats` all read their figures through this module, from the daily
rollups (reporting/rollups/models.py), so the same question gets the same number everywhere.

Definitions, for a date range of UTC days [start, end]:
- clicks: human clicks (`is_bot` false); bot clicks are kept but never counted here.
- unique clicks: human clicks flagged as the visitor's first on that link in 24 hours.
- leads: referrals created in the range.
- customers: referrals whose first sale happened in the range.
- sales / revenue: sale conversions in the range; revenue is their amount less the refunds in the range.
- click → lead rate: of the human clicks in the range, the share that won a lead (whenever it came).
- lead → customer rate: of the leads in the range, the share that have bought since.
- click → customer rate: of the human clicks in the range, the share whose lead has bought since.
  These three are cohort rates, so each stays between 0 and 1.
- average deal size: sale amount per sale; revenue per customer: revenue / customers.
- time to conversion: first touch (the winning click, else the deal registration, else the lead)
  to first sale, for the customers of the range: median and 90th percentile, in seconds.
- commissions by their current status, by the day of the sale or lead they reward: pending,
  approved and paid net of partial reversals; rejected at their full amount; reversed = the
  amounts taken back; net = all earned less reversals and rejections (= commission cost).
- ROI: revenue / commission cost. Earnings per click: commission cost / clicks.
- active partners: partners with a click, a lead or a sale in the range.
Money is per currency: a report covers one currency (the program's, or the one chosen).

The package is split by what each module owns: figures.py (the shapes: filters, totals, timing),
daily.py (the daily rollups), running.py (the running totals), timing.py (time to conversion),
summary.py (headline figures and comparison), breakdowns.py, options.py (filter choices) and
balances.py (what a partner is owed now). Callers import `reporting.metrics` and use the names below.
"""

from reporting.metrics.balances import ExpectedPayout, expected_payout
from reporting.metrics.breakdowns import breakdown
from reporting.metrics.daily import timeseries, totals
from reporting.metrics.figures import (
    COUNT_MEASURES,
    MEASURES,
    MONEY_MEASURES,
    BreakdownRow,
    Change,
    Comparison,
    DayPoint,
    Dimension,
    Filters,
    Summary,
    Timing,
    Totals,
)
from reporting.metrics.options import channels, currencies, default_currency, groups, partner_count, programs
from reporting.metrics.running import active_partners
from reporting.metrics.summary import compare, summary
from reporting.metrics.timing import timing

__all__ = [
    "COUNT_MEASURES",
    "MEASURES",
    "MONEY_MEASURES",
    "Dimension",
    "Filters",
    "Totals",
    "Timing",
    "Summary",
    "Change",
    "Comparison",
    "DayPoint",
    "BreakdownRow",
    "ExpectedPayout",
    "totals",
    "timing",
    "active_partners",
    "summary",
    "compare",
    "timeseries",
    "breakdown",
    "currencies",
    "default_currency",
    "channels",
    "groups",
    "programs",
    "partner_count",
    "expected_payout",
]
