from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin, TenantAdmin
from attribution.models import (
    Commission,
    CommissionReversal,
    Conversion,
    CsvImport,
    ExchangeRate,
    InboundEvent,
    IntegrationSettings,
    LedgerEntry,
    RewardRule,
)


@admin.register(ExchangeRate, IntegrationSettings)
class AttributionTenantAdmin(TenantAdmin):
    pass


# Money, rules and history change only through the services (the ledger's table refuses edits outright).
@admin.register(RewardRule, Conversion, Commission, CommissionReversal, CsvImport)
class AttributionReadOnlyAdmin(ReadOnlyTenantAdmin):
    pass


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyTenantAdmin):
    list_display = ("event_id", "kind", "source", "status", "received_at", "workspace")
    list_filter = ("status", "kind", "source", "workspace")
    search_fields = ("event_id",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyTenantAdmin):
    list_display = ("workspace", "sequence", "partner", "kind", "amount", "currency", "created_at")
