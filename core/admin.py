"""Django admin for tenants."""

from django.contrib import admin

from core.models import Client


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin page that shows rows and never adds, changes or deletes them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """Tenants; deactivating one locks its users out of the API."""

    list_display = ("name", "active", "created_at", "last_updated_at")
    list_filter = ("active",)
    search_fields = ("name",)
    readonly_fields = ("created_at", "last_updated_at")
    date_hierarchy = "created_at"
