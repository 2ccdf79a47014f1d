"""The leaders' cockpit: one server-rendered page whose figures come from one JSON view."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civicgrid.cockpit import selectors
from civicgrid.core.scoping import ScopeDenied, region_prefix_for, unit_for
from civicgrid.geo.models import Region

# The page asks for new figures this often (seconds).
REFRESH_SECONDS = 60

# The words cockpit.js writes into the page, with named placeholders ({n}, {time}…) rather than
# %s, so that no translation tool takes them for Python formats.
LABELS = {
    "updated": gettext_lazy("更新于 {time}"),
    "clock": gettext_lazy("{year}年{month}月{day}日"),
    "refreshFailed": gettext_lazy("数据刷新失败，仍显示 {time} 的数据"),
    "loadFailed": gettext_lazy("数据加载失败，稍后自动重试"),
    "loggedOut": gettext_lazy("登录已过期，请重新登录"),
    "mapFailed": gettext_lazy("网格图层加载失败"),
    "noData": gettext_lazy("暂无数据"),
    "open": gettext_lazy("在办"),
    "overdue": gettext_lazy("超期"),
    "street": gettext_lazy("街道/乡镇"),
    "overdueOfWhich": gettext_lazy("其中超期"),
    "reported": gettext_lazy("上报"),
    "closed": gettext_lazy("结案"),
    "pieces": gettext_lazy("件"),
    "reportsThisMonth": gettext_lazy("本月上报"),
    "satisfactionRate": gettext_lazy("满意率"),
    "rated": gettext_lazy("评价数"),
    "satisfied": gettext_lazy("满意"),
    "monthSuffix": pgettext_lazy("after a month number on a chart axis", "月"),
    "target": gettext_lazy("目标 {n}%"),
    "actual": gettext_lazy("实际占比"),
    "targetShare": gettext_lazy("目标占比"),
    "closedThisYear": gettext_lazy("本年结案 {n} 件"),
    "unrecorded": gettext_lazy("其中未记录解决方式 {n} 件"),
    "yearClosed": gettext_lazy("{year} 年结案"),
    "mapSubtitle": gettext_lazy("{month}上报 {n} 件 · 网格密度与热力"),
    "densityLegend": gettext_lazy("本月上报（件/网格）"),
    "densityLayer": gettext_lazy("网格密度"),
    "heat": gettext_lazy("热力"),
    "sparse": gettext_lazy("稀疏"),
    "dense": gettext_lazy("密集"),
    "gridReports": gettext_lazy("本月上报 {n} 件"),
    "clickToList": gettext_lazy("点击查看案件"),
}


@require_GET
@login_required
def cockpit(request: HttpRequest) -> HttpResponse:
    config = {
        "dataUrl": reverse("cockpit:data"),
        "layersUrl": reverse("geo:map-data"),
        # Drill-down: a click on a figure opens the matching cases in the workbench.
        "casesUrl": reverse("cases:workbench"),
        "tileUrl": settings.TILE_URL,
        "tileAttribution": settings.TILE_ATTRIBUTION,
        "refreshSeconds": REFRESH_SECONDS,
        "labels": LABELS,
    }
    area, scope = _scope(request.user)
    return render(request, "cockpit/cockpit.html", {"config": config, "area_name": area, "scope_name": scope})


@require_GET
@never_cache
def cockpit_data(request: HttpRequest) -> JsonResponse:
    # A JSON answer, not a redirect to the login page: the page's refresh tells the user.
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("登录已过期，请重新登录。")}, status=401)
    return JsonResponse(selectors.cockpit_data(request.user), json_dumps_params={"ensure_ascii": False})


def _scope(user) -> tuple[str, str]:
    """The area the figures cover (the county or the user's region) and, for a unit-scoped
    user, the unit: the title names the area, the scope line both."""
    try:
        prefix = region_prefix_for(user)
    except ScopeDenied:
        return "", ""
    regions = Region.objects.order_by("code")
    region = regions.filter(code=prefix).first() if prefix else regions.filter(level=Region.Level.COUNTY).first()
    area = region.name if region else _("全域")
    unit = user.org_unit if unit_for(user) is not None and user.org_unit_id else None
    return area, (f"{area} · {unit}" if unit else area)
