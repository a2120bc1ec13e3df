"""Django admin for operators. Tenant rows are listed with their workspace; money and history rows
(ledger, audit log, clicks, events) are read-only here: they change only through the services."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from accounts.models import ApiKey, AuditLogEntry, Domain, Heartbeat, Membership, StaffInvitation, User, Workspace


class TenantAdmin(admin.ModelAdmin):
    list_display: Any = ("__str__", "workspace")
    list_filter: ClassVar[tuple[str, ...]] = ("workspace",)
    list_select_related = ("workspace",)
    show_full_result_count = False  # counting millions of clicks or events on every page is not worth it


class ReadOnlyTenantAdmin(TenantAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "last_login")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")


@admin.register(Domain, Membership, StaffInvitation)
class AccountsTenantAdmin(TenantAdmin):
    pass


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    list_display = ("name", "prefix", "workspace", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "last_used_at")


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "workspace", "actor_label", "action", "target_repr")


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "beat_at", "count")
