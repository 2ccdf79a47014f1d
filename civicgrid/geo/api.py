"""REST API for geography, under /api/v1/geo/.

GET /api/v1/geo/locate?lon=&lat=[&crs=wgs84|gcj02|bd09]   the grid, community and street at a point
GET /api/v1/geo/regions/[<code>/]                        regions visible to the user
GET /api/v1/geo/grids/[<code>/]                          grids as a GeoJSON FeatureCollection / Feature
"""

from __future__ import annotations

import math

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import error_response
from civicgrid.geo import lookup
from civicgrid.geo.coords import CRS_CHOICES, WGS84, to_wgs84
from civicgrid.geo.models import Grid, Region, RegionClass
from civicgrid.geo.services import grid_feature


class _BadParameter(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


def _coordinate(params, field: str, low: float, high: float, example: str) -> float:
    value = params.get(field)
    if value is None or not value.strip():
        raise _BadParameter(field, f"缺少参数 {field}（例如 {example}）")
    try:
        number = float(value)
    except ValueError:
        raise _BadParameter(field, f"{field} 必须是数字，例如 {example}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _BadParameter(field, f"{field} 必须在 {low:g} 到 {high:g} 之间")
    return number


class GridLocateApi(APIView):
    """Which unit grid, community and street a point is in. 404 when it is in no grid the user can see."""

    class OutputSerializer(serializers.Serializer):
        class CodeName(serializers.Serializer):
            code = serializers.CharField()
            name = serializers.CharField()

        class GridOut(CodeName):
            region_class = serializers.CharField()

        lon = serializers.FloatField(help_text="WGS84 经度")
        lat = serializers.FloatField(help_text="WGS84 纬度")
        grid = GridOut()
        community = CodeName()
        street = CodeName()
        crs = serializers.CharField(help_text="输入坐标系")
        input = serializers.DictField(help_text="原样返回的输入坐标")

    @extend_schema(
        summary="坐标定位单元网格",
        parameters=[
            OpenApiParameter("lon", float, required=True, description="经度"),
            OpenApiParameter("lat", float, required=True, description="纬度"),
            OpenApiParameter("crs", str, enum=list(CRS_CHOICES), description="输入坐标系，默认 wgs84"),
        ],
        responses={200: OutputSerializer, 400: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request):
        params = request.query_params
        try:
            lon = _coordinate(params, "lon", -180, 180, "114.31")
            lat = _coordinate(params, "lat", -90, 90, "25.68")
            crs = (params.get("crs") or WGS84).strip().lower()
            if crs not in CRS_CHOICES:
                raise _BadParameter("crs", f"crs 必须是 {'、'.join(CRS_CHOICES)} 之一")
        except _BadParameter as exc:
            return error_response(exc.field, exc.reason, 400)
        wgs_lon, wgs_lat = to_wgs84(lon, lat, crs)
        try:
            found = lookup.locate(wgs_lon, wgs_lat)
        except lookup.OutsideManagedArea:
            return error_response(None, lookup.OUTSIDE_REASON, 404)
        # The point is in a grid, but the user may only see part of the county.
        if not Grid.objects.visible_to(request.user).filter(code=found.grid_code).exists():
            return error_response(None, "该位置不在您的数据权限范围内", 404)
        return Response({**found.as_dict(), "crs": crs, "input": {"lon": lon, "lat": lat}})


#
# Reference data (read-only)
#


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class RegionFilterSet(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code", label="上级区域代码")
    within = django_filters.CharFilter(field_name="code", lookup_expr="startswith", label="区划代码前缀")

    class Meta:
        model = Region
        fields = ["level", "parent", "within"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"

    def get_queryset(self):
        return Region.objects.visible_to(self.request.user).select_related("parent")


class GridFilterSet(django_filters.FilterSet):
    community = django_filters.CharFilter(field_name="region_code", label="社区代码")
    within = django_filters.CharFilter(field_name="region_code", lookup_expr="startswith", label="区划代码前缀")
    region_class = django_filters.ChoiceFilter(choices=RegionClass.choices, label="区域类别")
    bbox = django_filters.CharFilter(method="filter_bbox", label="范围 min_lon,min_lat,max_lon,max_lat")

    class Meta:
        model = Grid
        fields = ["community", "within", "region_class", "bbox"]

    def filter_bbox(self, queryset, name, value):
        try:
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in value.split(","))
        except ValueError:
            reason = "bbox 应为 4 个数字：最小经度,最小纬度,最大经度,最大纬度"
            raise serializers.ValidationError({"bbox": reason}) from None
        return queryset.filter(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat)


class GridFeatureSerializer(serializers.BaseSerializer):
    def to_representation(self, grid):
        return grid_feature(grid)


@extend_schema_view(
    list=extend_schema(
        operation_id="v1_geo_grids_list", summary="单元网格（GeoJSON FeatureCollection）", responses=OpenApiTypes.OBJECT
    ),
    retrieve=extend_schema(summary="单元网格（GeoJSON Feature）", responses=OpenApiTypes.OBJECT),
)
class GridViewSet(viewsets.ReadOnlyModelViewSet):
    """Unit grids as GeoJSON: the list is one FeatureCollection (not paginated: a map needs all of them)."""

    serializer_class = GridFeatureSerializer
    filterset_class = GridFilterSet
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self):
        return (
            Grid.objects.visible_to(self.request.user)
            .select_related("community__parent")
            .prefetch_related("responsibility_grids")
        )

    def list(self, request, *args, **kwargs):
        grids = self.filter_queryset(self.get_queryset())
        return Response({"type": "FeatureCollection", "features": self.get_serializer(grids, many=True).data})
