"""The reporting app's models live in one module per area; Django finds them all through this one."""

from reporting.payouts.models import *  # noqa: F401,F403 - payout periods, statements and payouts
from reporting.payouts.runs.models import *  # noqa: F401,F403 - payout runs and their items
from reporting.reports.models import *  # noqa: F401,F403 - scheduled report deliveries
from reporting.rollups.models import *  # noqa: F401,F403 - metrics rollups and exports
