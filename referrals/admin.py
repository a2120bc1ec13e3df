from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin, TenantAdmin
from referrals.models import Click, DealRegistration, Link, Referral, ReferralCode


@admin.register(Link, ReferralCode, DealRegistration)
class ReferralsTenantAdmin(TenantAdmin):
    search_fields = ("code",)


@admin.register(Referral)
class ReferralAdmin(TenantAdmin):
    list_display = ("customer_external_id", "partner", "source", "stage", "created_at", "workspace")
    search_fields = ("customer_external_id", "customer_email")


@admin.register(Click)
class ClickAdmin(ReadOnlyTenantAdmin):
    list_display = ("click_id", "link", "clicked_at", "is_bot", "is_unique", "workspace")
    search_fields = ("click_id",)
