"""Daily rollups of the funnel, so that no page scans raw clicks when it loads.

Every row is one UTC day of one slice. `DailyRollup` is the finest slice (partner, link or code,
channel, campaign, source type); `DailySummary` drops the partner, link and code, so the
workspace dashboard without a partner or group filter reads a few thousand rows for a year.
`CustomerTiming` keeps one row per converted customer: time to conversion is a percentile and
percentiles do not add up day by day.

A year-long report would still add up hundreds of daily rows per partner, so two running-total
tables hold the same sums at the grain the dashboard reads: `PartnerRunningTotal` (per partner) and
`TimingRunningCount` (customers per time-to-conversion bucket, for the percentiles). Each keeps a
month-to-date row per day and a year-to-date row per month, so any range is a handful of rows per
key (end minus the day before the start), however long it is.

The rows are derived data: `reporting.rollups.refresh_days` rebuilds a day from the raw rows,
so a day is always either missing or complete.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models

from accounts.models import TenantManager, Workspace


class MoneyColumnOptions(TypedDict):
    max_digits: int
    decimal_places: int
    default: int


MONEY: MoneyColumnOptions = {"max_digits": 18, "decimal_places": 4, "default": 0}


class Measures(models.Model):
    """The additive measures every rollup carries; every money column is in the row's `currency`."""

    clicks = models.PositiveIntegerField(default=0, help_text="Human clicks; bots are kept apart")
    unique_clicks = models.PositiveIntegerField(default=0)
    bot_clicks = models.PositiveIntegerField(default=0)
    # Leads won by a click of this day, whenever they came: clicks → leads as a cohort, never above 1.
    clicked_leads = models.PositiveIntegerField(default=0)
    # …and of those, the ones that have bought since: clicks → customers as a cohort.
    clicked_customers = models.PositiveIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)
    # Leads of this day that have bought since: leads → customers as a cohort.
    converted_leads = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0, help_text="Referrals whose first sale was this day")
    sales = models.PositiveIntegerField(default=0)
    sales_amount = models.DecimalField(**MONEY)
    refunds = models.PositiveIntegerField(default=0)
    refunds_amount = models.DecimalField(**MONEY)
    commission_pending = models.DecimalField(**MONEY)
    commission_approved = models.DecimalField(**MONEY)
    commission_paid = models.DecimalField(**MONEY)
    commission_rejected = models.DecimalField(**MONEY)
    commission_reversed = models.DecimalField(**MONEY)
    commission_net = models.DecimalField(**MONEY)

    objects = TenantManager()

    class Meta:
        abstract = True


class RollupMeasures(Measures):
    """The measures of one day of one slice."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=60, blank=True)
    source = models.CharField(max_length=20, help_text="Referral source type; clicks count as `link`")
    currency = models.CharField(max_length=3)

    class Meta:
        abstract = True


class DailyRollup(RollupMeasures):
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey("referrals.Link", null=True, on_delete=models.CASCADE, related_name="+")
    code = models.ForeignKey("referrals.ReferralCode", null=True, on_delete=models.CASCADE, related_name="+")
    campaign = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "day"], name="rollup_ws_day"),
            models.Index(fields=["workspace", "partner", "day"], name="rollup_ws_partner_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} partner {self.partner_id}"


class DailySummary(RollupMeasures):
    class Meta:
        indexes = [models.Index(fields=["workspace", "day"], name="summary_ws_day")]

    def __str__(self) -> str:
        return f"{self.day} program {self.program_id}"


class MonthlyPartnerRollup(Measures):
    """One partner's month in one channel, all sources together: the sum of its `DailyRollup` rows.

    The top partners of one channel then add up twelve rows per partner (plus the days of the
    months the range only partly covers) instead of a row per day, link and source."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month")
    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    # Defaults in the database too, so that code from before the column can still write rows.
    channel = models.CharField(max_length=60, blank=True, db_default="")
    currency = models.CharField(max_length=3)

    class Meta:
        indexes = [models.Index(fields=["workspace", "month"], name="monthrollup_ws_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} partner {self.partner_id}"


class RunningGrain(models.TextChoices):
    """What a running-total row sums: the days of its month through `date`, or the months of its
    year through `date`'s month."""

    MONTH_TO_DATE = "d", "Month to date"
    YEAR_TO_DATE = "m", "Year to date"


class PartnerRunningTotal(Measures):
    """A partner's measures, all channels and sources together, summed from the start of the month
    through `date` (grain d) or from the start of the year through the month `date` opens (grain m).

    Dense: a partner with a row in a month (a year) has one on every day (month) from its first
    active one through the last one any partner has, so the total of a day is one exact-date row,
    and a range is the difference of two such totals. See reporting.rollups.refresh_running."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    grain = models.CharField(max_length=1, choices=RunningGrain.choices)
    date = models.DateField()
    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)

    class Meta:
        indexes = [models.Index(fields=["workspace", "grain", "date"], name="partnerrun_ws_grain_date")]

    def __str__(self) -> str:
        return f"{self.grain} {self.date} partner {self.partner_id}"


class TimingRunningCount(models.Model):
    """Customers per time-to-conversion bucket (CustomerTiming.bucket), counted like
    `PartnerRunningTotal`: a range's histogram is a few rows per bucket, and the percentile is then
    read exactly from the one bucket it falls in."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    grain = models.CharField(max_length=1, choices=RunningGrain.choices)
    date = models.DateField()
    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=60, blank=True)
    currency = models.CharField(max_length=3)
    bucket = models.SmallIntegerField()
    customers = models.PositiveIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["workspace", "grain", "date"], name="timingrun_ws_grain_date")]

    def __str__(self) -> str:
        return f"{self.grain} {self.date} bucket {self.bucket}: {self.customers}"


class CustomerTiming(models.Model):
    """One converted customer: how long from its first touch (its click, deal registration or,
    failing both, the lead itself) to its first sale."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    referral = models.OneToOneField("referrals.Referral", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="Day of the first sale")
    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=60, blank=True)
    source = models.CharField(max_length=20)
    currency = models.CharField(max_length=3, db_default="")
    seconds = models.BigIntegerField()
    # Logarithmic bucket of `seconds` (reporting.rollups.TIMING_BUCKET_BOUNDS): ordered like seconds.
    bucket = models.SmallIntegerField(db_default=0)

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "day"], name="timing_ws_day"),
            models.Index(fields=["workspace", "partner", "day"], name="timing_ws_partner_day"),
            # Covering: a percentile reads one bucket's customers from the index alone.
            models.Index(
                fields=["workspace", "bucket", "day"],
                name="timing_ws_bucket_day",
                include=["seconds", "currency", "program", "channel"],
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.referral_id}: {self.seconds}s"


class RollupState(models.Model):
    """How far the incremental refresh of a workspace has read: rows created after this are new."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    refreshed_through = models.DateTimeField()

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.workspace_id} through {self.refreshed_through}"


class ExportJob(models.Model):
    """A CSV export too large for one request, written by a worker while the page polls its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    written_rows = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="exportjob_ws_created")]

    def __str__(self) -> str:
        return f"{self.kind} export {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.written_rows / self.total_rows)) if self.total_rows else 0


__all__ = [
    "DailyRollup",
    "DailySummary",
    "MonthlyPartnerRollup",
    "RunningGrain",
    "PartnerRunningTotal",
    "TimingRunningCount",
    "CustomerTiming",
    "RollupState",
    "ExportJob",
]
