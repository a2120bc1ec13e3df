from django.contrib import admin

from accounts.admin import TenantAdmin
from partners.models import Partner, PartnerGroup, PartnerInvitation, PartnerUser, Program


@admin.register(Program, PartnerGroup, PartnerUser, PartnerInvitation)
class PartnersTenantAdmin(TenantAdmin):
    pass


@admin.register(Partner)
class PartnerAdmin(TenantAdmin):
    list_display = ("name", "email", "status", "program", "workspace")
    list_filter = ("status", "workspace")
    search_fields = ("name", "email", "company")
