from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import OrgUnit, User


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "region", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "remit")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent", "region")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "org_unit", "scope", "is_active")
    list_filter = ("role", "scope", "is_active", "org_unit__kind")
    search_fields = ("username", "display_name", "phone")
    list_select_related = ("org_unit",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("岗位与数据权限"), {"fields": ("display_name", "phone", "role", "org_unit", "scope", "scope_region")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("岗位与数据权限"), {"fields": ("display_name", "role", "org_unit", "scope", "scope_region")}),
    )
