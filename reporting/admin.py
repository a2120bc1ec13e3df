from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin
from reporting.payouts.models import Payout, PayoutPeriod, Statement, StatementLine
from reporting.reports.models import ReportDelivery


# Statements are frozen when issued; periods and payouts change only through the payout services.
@admin.register(PayoutPeriod, Statement, StatementLine, Payout, ReportDelivery)
class ReportingReadOnlyAdmin(ReadOnlyTenantAdmin):
    pass
