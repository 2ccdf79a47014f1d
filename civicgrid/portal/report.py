"""The portal's home and reporting pages (/p/, /p/report/): no account, plain forms first.

Every step works as a plain form round trip (the place and category searches, the SMS code,
the nearby cases); report.js only does the same steps without reloading the page. Photos are
the one thing a round trip cannot keep (browsers never refill a file input), so the page puts
them after the steps that may need a round trip.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Max, Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from shapely.geometry import mapping, shape

from civicgrid.audit.context import client_ip
from civicgrid.cases.models import Case
from civicgrid.cases.services import CaseError, ReportInput
from civicgrid.cases.workflow import OPEN
from civicgrid.core.ratelimit import rate_hit, rate_setting, retry_after
from civicgrid.geo.lookup import OutsideManagedArea, locate
from civicgrid.geo.models import Grid, Region
from civicgrid.notifications.masking import mask_phone
from civicgrid.portal.forms import MAX_PHOTOS, OUTSIDE, ReportForm
from civicgrid.portal.models import CategoryTile, Tracker
from civicgrid.portal.otp import OtpError, is_mobile, normalise_phone, otp_send
from civicgrid.portal.places import place_resolve, place_search
from civicgrid.portal.services import (
    Contact,
    nearby_open_cases,
    portal_follow,
    portal_report,
    public_categories,
)

log = logging.getLogger(__name__)

# Django settings (strings like "20/h"), read at call time.
RATE_PER_IP = ("CIVICGRID_PORTAL_RATE_PER_IP", "20/h")
RATE_PER_PHONE = ("CIVICGRID_PORTAL_RATE_PER_PHONE", "5/h")
OTP_PER_PHONE = ("CIVICGRID_PORTAL_OTP_PER_PHONE", "5/h")
SESSION_KEY = "portal_report_done"


#
# Links to the public pages (civicgrid.portal.public_urls), with their paths as fallback
#


def portal_url(name: str, fallback: str, **kwargs) -> str:
    try:
        return reverse(f"portal:{name}", kwargs=kwargs or None)
    except NoReverseMatch:
        return fallback


def track_url(token: str) -> str:
    return portal_url("track", f"/p/t/{token}/", token=token)


#
# Pages
#


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/home.html",
        {
            "lookup_url": portal_url("lookup", "/p/track/"),
            "cases_url": portal_url("cases", "/p/cases/"),
            "figures_url": portal_url("figures", "/p/figures/"),
        },
    )


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_form(request, ReportForm())
    if request.POST.get("find") or "send_code" in request.POST:
        return _round_trip(request)
    return _submit(request, mode="follow" if request.POST.get("follow") else "report")


@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    return _submit(request, mode="follow")


@require_GET
def done(request: HttpRequest) -> HttpResponse:
    info = request.session.get(SESSION_KEY)
    tracker = Tracker.objects.select_related("case").filter(token=(info or {}).get("token", "")).first()
    if tracker is None:
        return redirect("portal:report")
    link = request.build_absolute_uri(track_url(tracker.token))
    return render(
        request,
        "portal/report_done.html",
        {
            "tracker": tracker,
            "case": tracker.case,
            "link": link,
            "track_url": track_url(tracker.token),
            "point_source": info.get("point_source", ""),
            "masked_phone": mask_phone(tracker.phone) if tracker.notify else "",
        },
    )


#
# Fragments for report.js (each also a plain GET)
#


@require_GET
def places(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    return render(request, "portal/_place_results.html", {"place_q": q, "place_results": place_search(q)})


@require_GET
def categories(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    return render(request, "portal/_category_results.html", {"category_q": q, "category_results": _categories(q)})


@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """Open cases nearby; for a point outside the managed area, a warning at once (map taps)."""
    try:
        point = (float(request.GET.get("lon", "")), float(request.GET.get("lat", "")))
    except ValueError:
        point = None
    if point is not None:
        try:
            locate(*point)
        except OutsideManagedArea:
            return render(request, "portal/_nearby.html", {"outside": OUTSIDE})
    return render(request, "portal/_nearby.html", {"nearby": _nearby(request.GET)})


@require_POST
def otp(request: HttpRequest) -> HttpResponse:
    """Send a one-time code; report.js shows the answer's text beside the button."""
    phone = normalise_phone(request.POST.get("phone", ""))
    message, status = _send_code(request, phone)
    return render(
        request,
        "portal/_otp_status.html" if request.headers.get("X-Requested-With") else "portal/otp_sent.html",
        {"message": message, "ok": status == 200},
        status=status,
    )


#
# The form's round trips and its submission
#


def _round_trip(request: HttpRequest) -> HttpResponse:
    """A search or a code request without JavaScript: the same form again, filled in as sent."""
    initial = {name: request.POST.get(name, "") for name in ReportForm.base_fields if name != "photos"}
    initial["notify"] = bool(request.POST.get("notify"))
    form = ReportForm(initial=initial)
    notices = []
    if "send_code" in request.POST:
        message, _status = _send_code(request, normalise_phone(request.POST.get("phone", "")))
        notices.append(message)
    return _render_form(request, form, notices=notices, find=request.POST.get("find", ""))


def _submit(request: HttpRequest, *, mode: str) -> HttpResponse:
    limited = rate_limited(request, "portal-post")
    if limited:
        return limited
    form = ReportForm(request.POST, request.FILES, mode=mode)
    if not form.is_valid():
        return _render_form(request, form, status=400)
    data = form.cleaned_data
    contact = Contact(name=data["name"].strip(), phone=data["phone"], phone_code=form.phone_code, notify=data["notify"])
    if mode == "follow":
        case = Case.objects.filter(number=data["follow"], status__in=OPEN, category__is_public=True).first()
        if case is None:
            form.add_error(None, _("没有找到这件正在办理的案件"))
            return _render_form(request, form, status=400)
        try:
            tracker = portal_follow(case=case, contact=contact)
        except (CaseError, OtpError) as error:
            form.add_error(None, error.reason)
            return _render_form(request, form, status=400)
        return redirect(track_url(tracker.token))

    lon, lat = form.point
    found = nearby_open_cases(category_id=form.category_obj.pk, lon=lon, lat=lat)
    if found and not request.POST.get("nearby_checked"):
        notices = [_("附近已有相同的问题正在办理。是同一个问题的话，请关注它；不是的话，请再次点击“提交”。")]
        return _render_form(request, form, notices=notices, nearby_checked=True)
    report_data = ReportInput(
        channel="public",
        category_id=form.category_obj.pk,
        lon=lon,
        lat=lat,
        crs="wgs84",
        address=form.place_match.name if form.place_match else "",
        description=data["description"].strip(),
        photos=data["photos"],
    )
    try:
        tracker = portal_report(data=report_data, contact=contact)
    except (CaseError, OtpError) as error:
        field = getattr(error, "field", None)
        form.add_error("place" if field == "lon" else None, OUTSIDE if field == "lon" else error.reason)
        return _render_form(request, form, status=400)
    request.session[SESSION_KEY] = {"token": tracker.token, "point_source": form.point_source}
    return redirect("portal:report-done")


def _render_form(
    request: HttpRequest,
    form: ReportForm,
    *,
    status: int = 200,
    notices: list[str] | None = None,
    find: str = "",
    nearby_checked: bool = False,
) -> HttpResponse:
    values = form.data if form.is_bound else form.initial
    notices = list(notices or [])
    if request.FILES:
        # Browsers never refill a file input: say so whenever the form comes back.
        notices.append(_("照片需要重新选择（页面刷新后浏览器不保留已选的照片）。"))
    place_q, category_q = (values.get("place_q") or "").strip(), (values.get("category_q") or "").strip()
    chosen_place = place_resolve(values.get("place") or "")
    place_results = place_search(place_q) if place_q else []
    if chosen_place and chosen_place.key not in {m.key for m in place_results}:
        place_results.insert(0, chosen_place)
    tiles = list(
        CategoryTile.objects.filter(is_active=True, category__is_active=True, category__is_public=True).select_related(
            "category"
        )
    )
    chosen_category = str(values.get("category") or "")
    category_results = _categories(category_q) if category_q else []
    tile_ids = {str(t.category_id) for t in tiles}
    if chosen_category and chosen_category not in tile_ids | {str(c.pk) for c in category_results}:
        category_results = list(public_categories().filter(pk=chosen_category if chosen_category.isdigit() else 0))
    context = {
        "form": form,
        "values": values,
        "tiles": tiles,
        "chosen_category": chosen_category,
        "chosen_place": values.get("place") or "",
        "place_q": place_q,
        "place_results": place_results,
        "place_searched": bool(place_q) or find == "place",
        "category_q": category_q,
        "category_results": category_results,
        "category_searched": bool(category_q) or find == "category",
        "nearby": _nearby(values),
        "nearby_checked": nearby_checked or bool(values.get("nearby_checked")),
        "notices": notices,
        "map_config": _map_config(),
        "strings": _script_strings(),
        "max_photos": MAX_PHOTOS,
    }
    return render(request, "portal/report.html", context, status=status)


def _script_strings() -> dict:
    """report.js's words, translated here like every other string."""
    return {
        "locating": _("正在定位…"),
        "located": _("已定位（精度约 %(m)s 米）"),
        "noGeo": _("此设备不支持定位，请在地图上点选或搜索地名。"),
        "denied": _("没有获得定位权限，请在地图上点选或搜索地名。"),
        "unavailable": _("暂时无法定位，请在地图上点选或搜索地名。"),
        "timeout": _("定位超时，请在地图上点选或搜索地名。"),
        "mapPicked": _("已在地图上选定位置"),
        "placePicked": _("已选择：%(name)s"),
        "searching": _("正在搜索…"),
        "failed": _("网络不畅，请稍后再试"),
        "photoCount": _("已选 %(n)s 张照片"),
        "tooMany": _("最多 %(n)s 张照片，请重新选择"),
        "sending": _("正在发送…"),
        "getCode": _("获取验证码"),
        "resend": _("%(s)s 秒后可重发"),
    }


def _categories(q: str):
    q = (q or "").strip()[:30]
    if not q:
        return []
    return list(public_categories().filter(name__icontains=q).order_by("kind", "sort_order", "id")[:12])


def _nearby(values) -> list:
    """Nearby open cases of the chosen category at the chosen point or place (nothing when either is missing)."""
    category = str(values.get("category") or "")
    if not category.isdigit():
        return []
    try:
        lon, lat = float(values.get("lon") or ""), float(values.get("lat") or "")
    except ValueError:
        match = place_resolve(values.get("place") or "")
        if match is None:
            return []
        lon, lat = match.lon, match.lat
    return nearby_open_cases(category_id=int(category), lon=lon, lat=lat)


def _map_config() -> dict:
    bounds = Grid.objects.aggregate(
        min_lon=Min("min_lon"), min_lat=Min("min_lat"), max_lon=Max("max_lon"), max_lat=Max("max_lat")
    )
    # Street outlines only to find one's way: simplified to about 10 m, so a county's real
    # boundaries do not weigh on a phone's data plan.
    streets = [
        {
            "type": "Feature",
            "geometry": mapping(shape(boundary).simplify(0.0001, preserve_topology=True)),
            "properties": {"name": name},
        }
        for name, boundary in Region.objects.filter(level=Region.Level.STREET, boundary__isnull=False)
        .order_by("code")
        .values_list("name", "boundary")
    ]
    return {
        "bounds": [[bounds["min_lat"], bounds["min_lon"]], [bounds["max_lat"], bounds["max_lon"]]]
        if bounds["min_lon"] is not None
        else None,
        "streets": {"type": "FeatureCollection", "features": streets},
        "tileUrl": settings.TILE_URL,
        "tileAttribution": settings.TILE_ATTRIBUTION,
    }


#
# Rate limits and the one-time code
#


def rate_limited(request: HttpRequest, scope: str) -> HttpResponse | None:
    """The 429 page when this address or this phone has sent too many; counts this request."""
    per_ip = rate_setting(*RATE_PER_IP)
    if not rate_hit(f"{scope}-ip", client_ip(request), per_ip):
        return too_many(request, per_ip)
    phone = normalise_phone(request.POST.get("phone", ""))
    per_phone = rate_setting(*RATE_PER_PHONE)
    if phone and not rate_hit(f"{scope}-phone", phone, per_phone):
        return too_many(request, per_phone)
    return None


def too_many(request: HttpRequest, rate) -> HttpResponse:
    response = render(request, "portal/ratelimited.html", {"home_url": reverse("portal:home")}, status=429)
    response["Retry-After"] = str(retry_after(rate))
    return response


def _send_code(request: HttpRequest, phone: str) -> tuple[str, int]:
    """(message for the citizen, HTTP status)."""
    if not is_mobile(phone):
        return _("请填写正确的 11 位手机号"), 400
    per_ip = rate_setting(*RATE_PER_IP)
    per_phone = rate_setting(*OTP_PER_PHONE)
    if not rate_hit("portal-otp-ip", client_ip(request), per_ip) or not rate_hit("portal-otp-phone", phone, per_phone):
        return _("获取验证码过于频繁，请稍后再试"), 429
    try:
        otp_send(phone)
    except OtpError as error:
        return error.reason, 400
    return _("验证码已发送到 %(phone)s，5 分钟内有效") % {"phone": mask_phone(phone)}, 200
