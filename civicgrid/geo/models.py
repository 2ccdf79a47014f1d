"""Geography: the region tree, unit grids (单元网格) and responsibility grids (责任网格).

Coordinates are stored as WGS84/CGCS2000 longitude/latitude. Geometry is kept as GeoJSON in a
JSON column (no GDAL/SpatiaLite needed); spatial queries run in memory on a shapely STRtree
(see civicgrid.geo.lookup). The bounding-box columns let SQL narrow a map view cheaply.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core.scoping import RegionScopedQuerySet


class RegionQuerySet(RegionScopedQuerySet):
    def in_region(self, prefix: str) -> "RegionQuerySet":
        # A user scoped to a street also sees the county and street above it (for names),
        # and everything below it.
        ancestors = [prefix[:n] for n in (6, 9) if n < len(prefix)]
        return self.filter(models.Q(code__startswith=prefix) | models.Q(code__in=ancestors))


class Region(models.Model):
    """An administrative region with its GB/T 2260-style code: county (6), street/town (9), community (12)."""

    class Level(models.TextChoices):
        COUNTY = "county", _("区县")
        STREET = "street", _("街道/乡镇")
        COMMUNITY = "community", _("社区/村")

    LEVEL_BY_CODE_LENGTH = {6: Level.COUNTY, 9: Level.STREET, 12: Level.COMMUNITY}

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Optional boundary (GeoJSON Polygon/MultiPolygon, WGS84). The county's boundary is the
    # managed area: imported grids must lie inside it.
    boundary = models.JSONField(_("边界（GeoJSON）"), null=True, blank=True)
    # Part of the grid index version (civicgrid.geo.lookup): a renamed region shows in lookups.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区域")
        verbose_name_plural = _("行政区域")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not self.code.isdigit() or len(self.code) not in self.LEVEL_BY_CODE_LENGTH:
            raise ValidationError({"code": _("区划代码必须是 6、9 或 12 位数字。")})
        self.level = self.LEVEL_BY_CODE_LENGTH[len(self.code)]
        if self.parent is not None and not self.code.startswith(self.parent.code):
            raise ValidationError({"parent": _("区划代码必须以上级区域的代码开头。")})


class RegionClass(models.TextChoices):
    """Region tiers of time limits: A 核心区, B 一般区, C 其他."""

    A = "A", _("A类（核心区）")
    B = "B", _("B类（一般区）")
    C = "C", _("C类")


class GridQuerySet(RegionScopedQuerySet):
    def in_region(self, prefix: str) -> "GridQuerySet":
        return self.filter(region_code__startswith=prefix)


class Grid(models.Model):
    """A unit grid (单元网格): the smallest mapped management cell, a polygon or multipolygon in a community."""

    code = models.CharField(_("网格编码"), max_length=20, unique=True)
    name = models.CharField(_("网格名称"), max_length=100, blank=True)
    community = models.ForeignKey(
        Region,
        verbose_name=_("所属社区"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": Region.Level.COMMUNITY},
    )
    # Copy of community.code: scope filters by prefix without a join.
    region_code = models.CharField(_("社区代码"), max_length=12, db_index=True, editable=False)
    region_class = models.CharField(_("区域类别"), max_length=1, choices=RegionClass.choices, blank=True)
    geometry = models.JSONField(_("边界（GeoJSON）"))
    # Bounding box and centroid, derived from geometry on save (see services.grid_save).
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    centroid_lon = models.FloatField(editable=False)
    centroid_lat = models.FloatField(editable=False)
    area_m2 = models.FloatField(_("面积（平方米）"), editable=False)
    # The point-lookup index in each process compares count, max(id) and max(updated_at)
    # to notice changed grids (civicgrid.geo.lookup). QuerySet.update() must set it too.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = GridQuerySet.as_manager()

    class Meta:
        verbose_name = _("单元网格")
        verbose_name_plural = _("单元网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ResponsibilityGridQuerySet(RegionScopedQuerySet):
    def in_region(self, prefix: str) -> "ResponsibilityGridQuerySet":
        # Responsibility grids belong to a street: a community-scoped user sees its street's.
        return self.filter(models.Q(street__code__startswith=prefix) | models.Q(street__code=prefix[:9]))


class ResponsibilityGrid(models.Model):
    """A responsibility grid (责任网格): the unit grids one inspector patrols."""

    code = models.CharField(_("责任网格编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    street = models.ForeignKey(
        Region,
        verbose_name=_("所属街道"),
        on_delete=models.PROTECT,
        related_name="responsibility_grids",
        limit_choices_to={"level": Region.Level.STREET},
    )
    grids = models.ManyToManyField(Grid, verbose_name=_("单元网格"), related_name="responsibility_grids")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("监督员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsibility_grids",
    )

    objects = ResponsibilityGridQuerySet.as_manager()

    class Meta:
        verbose_name = _("责任网格")
        verbose_name_plural = _("责任网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"
