from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from civicgrid.geo import lookup, services
from civicgrid.geo.models import Grid, Region, ResponsibilityGrid


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "grid_count")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = ("updated_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).annotate(grid_total=Count("grids"))

    @admin.display(description=_("网格数"), ordering="grid_total")
    def grid_count(self, region):
        return region.grid_total

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A renamed community shows in point lookups at once.
        lookup.invalidate()


class StreetFilter(admin.SimpleListFilter):
    title = _("所属街道")
    parameter_name = "street"

    def lookups(self, request, model_admin):
        streets = Region.objects.visible_to(request.user).filter(level=Region.Level.STREET)
        return [(s.code, s.name) for s in streets]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(region_code__startswith=self.value())
        return queryset


class GridAdminForm(forms.ModelForm):
    class Meta:
        model = Grid
        fields = ["code", "name", "community", "region_class", "geometry"]
        help_texts = {
            "code": _("14–20 位数字或字母"),
            "geometry": _("GeoJSON Polygon 或 MultiPolygon，WGS84 经纬度（先经度后纬度）"),
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = Grid(pk=self.instance.pk, **{name: cleaned.get(name) for name in self.Meta.fields})
        try:
            services.grid_clean(candidate)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    form = GridAdminForm
    list_display = ("code", "name", "community", "street_name", "region_class", "area_display")
    # RelatedOnly: a scoped admin sees only the communities of the grids it may see.
    list_filter = ("region_class", StreetFilter, ("community", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "region_code", "community__name")
    list_select_related = ("community__parent",)
    autocomplete_fields = ("community",)
    readonly_fields = ("region_code", "area_m2", "min_lon", "min_lat", "max_lon", "max_lat", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.display(description=_("所属街道"))
    def street_name(self, grid):
        return grid.community.parent.name if grid.community.parent else ""

    @admin.display(description=_("面积（平方米）"), ordering="area_m2")
    def area_display(self, grid):
        return f"{grid.area_m2:,.0f}"

    def save_model(self, request, obj, form, change):
        # Through the service: derived columns filled, overlaps rejected, index refreshed.
        services.grid_save(obj)
        # The admin view runs in a transaction: a grid moved out of the user's own scope
        # is rolled back (NetBox's ObjectEditView does the same).
        if not Grid.objects.visible_to(request.user).filter(pk=obj.pk).exists():
            raise PermissionDenied("不能把网格移出您的数据权限范围")


class ResponsibilityGridAdminForm(forms.ModelForm):
    class Meta:
        model = ResponsibilityGrid
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        street, grids = cleaned.get("street"), cleaned.get("grids")
        if street is not None and grids is not None:
            outside = sorted(g.code for g in grids if not g.region_code.startswith(street.code))
            if outside:
                raise ValidationError({"grids": f"以下单元网格不属于{street.name}：{'、'.join(outside[:10])}"})
        return cleaned


@admin.register(ResponsibilityGrid)
class ResponsibilityGridAdmin(admin.ModelAdmin):
    form = ResponsibilityGridAdminForm
    list_display = ("code", "name", "street", "inspector", "unit_grid_count")
    list_filter = (("street", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("code", "name", "inspector__username", "inspector__display_name")
    list_select_related = ("street", "inspector")
    autocomplete_fields = ("street", "inspector", "grids")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).annotate(grid_total=Count("grids"))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # As for grids: the admin view's transaction rolls back a move out of the user's scope.
        if not ResponsibilityGrid.objects.visible_to(request.user).filter(pk=obj.pk).exists():
            raise PermissionDenied("不能把责任网格移出您的数据权限范围")

    @admin.display(description=_("单元网格数"), ordering="grid_total")
    def unit_grid_count(self, rgrid):
        return rgrid.grid_total
