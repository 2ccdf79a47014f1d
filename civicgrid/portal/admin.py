from django.contrib import admin

from civicgrid.portal.models import CategoryTile, PhoneCode, Place, Tracker


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("name", "aliases", "lon", "lat", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "aliases")


@admin.register(CategoryTile)
class CategoryTileAdmin(admin.ModelAdmin):
    list_display = ("label", "hint", "category", "order", "is_active")
    list_editable = ("order", "is_active")
    list_filter = ("is_active",)
    autocomplete_fields = ("category",)
    search_fields = ("label", "hint", "category__name")


@admin.register(Tracker)
class TrackerAdmin(admin.ModelAdmin):
    """Read-only: trackers are made by citizens on the portal. The token is not shown."""

    list_display = ("case", "kind", "name", "phone_verified", "notify", "created_at")
    list_filter = ("kind", "notify")
    search_fields = ("case__number",)
    fields = ("case", "kind", "name", "phone_verified", "notify", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PhoneCode)
class PhoneCodeAdmin(admin.ModelAdmin):
    """For support questions ("I got no code"): when codes were sent and tried, never the code."""

    list_display = ("__str__", "created_at", "expires_at", "attempts", "used_at")
    fields = ("created_at", "expires_at", "attempts", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
