"""The portal's public pages (/p/): a citizen's private link, the rating, lookup by number, the
public map and list of recent cases, and the monthly figures per street.

Nobody logs in here. A private link (Tracker.token) is the only key: it shows the case's public
timeline, the reporter's own photos and, to the reporter of a closed case, the rating form.
Every other page shows only what anyone may see (civicgrid.portal.public_selectors decides
what that is); a category an admin took off the public list (Category.publicly_listed) is
never shown by number, on the map or in the list, only on its reporter's private link.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from civicgrid.cases.models import Rating, Satisfaction
from civicgrid.cases.services import CaseConflict, CaseNotFound, InvalidInput, case_rate
from civicgrid.cases.workflow import Action, Status
from civicgrid.catalog.models import Category
from civicgrid.core.files import stored_file_response
from civicgrid.core.htmx import htmx_partial
from civicgrid.evaluation.indicators import EVERYTHING
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.evaluation.periods import month_period
from civicgrid.evaluation.tables import TABS, evaluation_table
from civicgrid.portal import public_selectors as sel
from civicgrid.portal.models import Tracker
from civicgrid.portal.report import rate_limited

LIST_PAGE_SIZE = 20
# How often the private page asks for news (seconds); tests make it shorter.
DEFAULT_POLL_SECONDS = 20
# Statuses after which nothing more happens to a case: the page stops asking.
FINAL = {Status.REJECTED, Status.VOIDED, Status.MERGED}


class RatingForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=gettext_lazy("您对办理结果是否满意？"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择满意、基本满意或不满意")},
    )
    comment = forms.CharField(
        label=gettext_lazy("您的意见（选填）"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        error_messages={"max_length": gettext_lazy("评价内容不能超过 500 字")},
    )


def _tracker_or_404(token: str) -> Tracker:
    tracker = sel.tracker_by_token(token)
    if tracker is None:
        raise Http404(_("查询链接无效或已失效"))
    return tracker


#
# The private link
#


def _track_context(tracker: Tracker, form: RatingForm | None = None, error: str = "") -> dict:
    case = tracker.case
    reporter = tracker.kind == Tracker.Kind.REPORTER
    rating = sel.last_rating_this_closure(case) if reporter else None
    rateable = reporter and sel.can_rate(tracker, rating)
    poll = getattr(settings, "CIVICGRID_PORTAL_POLL_SECONDS", DEFAULT_POLL_SECONDS)
    steps = sel.public_timeline(case, private=True, reporter=reporter)
    # Kept closed after a 不满意: the reply goes above the rating form, which is open again.
    reply = steps[-1].note if steps and steps[-1].action == Action.KEEP_CLOSED else ""
    return {
        "tracker": tracker,
        "case": case,
        "reporter": reporter,
        "headline": sel.current_text(case),
        "steps": steps,
        "reply": reply,
        "photo_url": reverse("portal:track-photo", args=[tracker.token, 0])[: -len("0/")],
        "can_rate": rateable,
        "rating": rating,
        "form": form or (RatingForm() if rateable else None),
        "rate_error": error,
        # No polling while the rating form is open (a swap would wipe what is being typed) or
        # once nothing more can happen.
        "poll_seconds": poll if not rateable and case.status not in FINAL else 0,
        "checked_at": timezone.now(),
    }


@require_GET
@never_cache  # the page is the case's state now, and it carries the rating form's CSRF token
def track(request: HttpRequest, token: str) -> HttpResponse:
    tracker = _tracker_or_404(token)
    context = _track_context(tracker)
    if htmx_partial(request):
        return render(request, "portal/track_body.html", context)
    return render(request, "portal/track.html", context)


@require_POST
@never_cache
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's rating of a closed case (满意 / 基本满意 / 不满意 and a comment)."""
    tracker = _tracker_or_404(token)
    # The same per-address limit as reports: a link passed around cannot be used to flood.
    limited = rate_limited(request, "portal-rating")
    if limited is not None:
        return limited
    if tracker.kind != Tracker.Kind.REPORTER:
        context = _track_context(tracker, error=_("只有反映人可以评价办理结果。"))
        return render(request, "portal/track.html", context, status=403)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/track.html", _track_context(tracker, form=form), status=400)
    try:
        case_rate(
            case_id=tracker.case_id,
            satisfaction=form.cleaned_data["satisfaction"],
            comment=form.cleaned_data["comment"],
            source=Rating.Source.PORTAL,
        )
    except (CaseConflict, CaseNotFound) as exc:
        tracker = _tracker_or_404(token)  # the case as it is now
        return render(request, "portal/track.html", _track_context(tracker, error=exc.reason), status=409)
    except InvalidInput as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        return render(request, "portal/track.html", _track_context(tracker, form=form), status=400)
    if form.cleaned_data["satisfaction"] == Satisfaction.DISSATISFIED:
        messages.success(request, _("已收到您的评价。我们将复核办理结果，并在此页面答复您。"))
    else:
        messages.success(request, _("已收到您的评价，谢谢！"))
    return redirect(reverse("portal:track", args=[token]) + "#rating")


@require_GET
def track_photo(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    """A photo of the tracker's case: after-photos; the reporter's own before-photos too."""
    tracker = _tracker_or_404(token)
    reporter = tracker.kind == Tracker.Kind.REPORTER
    attachment = next((a for a in sel.public_photos(tracker.case, reporter=reporter) if a.pk == pk), None)
    if attachment is None:
        raise Http404(_("照片不存在"))
    if request.GET.get("size") == "thumb" and attachment.thumbnail:
        return stored_file_response(attachment.thumbnail.name, "image/jpeg")
    return stored_file_response(attachment.file.name, attachment.content_type)


#
# By number
#


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip()
    error = ""
    if number:
        case = sel.case_by_number(number)
        if case is not None:
            return redirect("portal:case", number=case.number)
        error = _("没有找到编号为 %(number)s 的案件，请核对后再试。") % {"number": number[:40]}
    return render(request, "portal/track_lookup.html", {"number": number, "error": error}, status=404 if error else 200)


@require_GET
def case_public(request: HttpRequest, number: str) -> HttpResponse:
    case = sel.case_by_number(number)
    if case is None:
        raise Http404(_("没有找到该编号的案件"))
    if not case.category.publicly_listed:
        # Case numbers are sequential, so that one exists is no secret; everything else is.
        return render(request, "portal/public_hidden.html", {"number": case.number}, status=404)
    context = {
        "case": case,
        "headline": sel.current_text(case),
        "steps": sel.public_timeline(case, private=False),
    }
    return render(request, "portal/track_case.html", context)


#
# Map and list of recent cases
#


def _filters(request: HttpRequest) -> dict:
    categories = Category.objects.filter(is_active=True, publicly_listed=True).order_by("sort_order", "name")
    return {
        "streets": list(sel.streets().values_list("code", "name")),
        "categories": list(categories.values_list("pk", "name")),
        "street": request.GET.get("street", ""),
        "category": request.GET.get("category", ""),
    }


@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    error = ""
    try:
        qs = sel.recent_cases(request.GET)
    except sel.FilterError as exc:
        error, qs = str(exc), sel.listed_cases().none()
    qs = qs.select_related("category", "street", "community")
    page = Paginator(qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    rows = [
        {
            "number": case.number,
            "category": case.category.name,
            "status": sel.public_status(case.status),
            "status_key": case.status,
            "place": f"{case.street.name} · {case.community.name}",
            "date": case.created_at,
        }
        for case in page.object_list
    ]
    context = {
        **_filters(request),
        "page": page,
        "rows": rows,
        "error": error,
        "querystring": params.urlencode(),
        "days": sel.RECENT_DAYS,
        "map_config": {
            "dataUrl": reverse("portal:cases-geojson") + ("?" + params.urlencode() if params else ""),
            "caseUrl": reverse("portal:case", args=["0"])[: -len("0/")],
            "tileUrl": settings.TILE_URL,
            "tileAttribution": settings.TILE_ATTRIBUTION,
            "labels": {
                "points": _("地图上 %(n)s 个点，位置已取整到约 30 米"),
                "truncated": _("地图上只显示最近的 %(n)s 个点，位置已取整到约 30 米"),
                "failed": _("地图数据暂时无法加载"),
            },
        },
    }
    return render(request, "portal/public_cases.html", context)


@require_GET
@cache_control(public=True, max_age=60)
def cases_geojson(request: HttpRequest) -> JsonResponse:
    try:
        qs = sel.recent_cases(request.GET)
    except sel.FilterError as exc:
        return JsonResponse({"error": {"field": "category", "reason": str(exc)}}, status=400)
    data = sel.cases_geojson(qs)
    data["streets"] = sel.street_outlines()
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


#
# Monthly figures
#


@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    month, ok = sel.parse_month(request.GET.get("month"))
    rows = sel.street_figures(month)
    total = sel.StreetFigures("", _("合计"))
    for row in rows:
        for name in ("reports", "filed", "closed", "closed_on_time", "ratings", "satisfied"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    # The bureau's target (admin: 评价设置, 95 % unless changed), drawn for both rates.
    target = float(EvaluationSettings.current().satisfaction_target)
    chart = {
        "streets": [row.name for row in rows],
        "onTime": [row.on_time_rate for row in rows],
        "satisfaction": [row.satisfaction_rate for row in rows],
        "target": target,
        "labels": {"onTime": _("按期办结率"), "satisfaction": _("满意率"), "target": _("目标")},
    }
    context = {
        "month": month,
        "month_value": month.strftime("%Y-%m"),
        "rows": rows,
        "total": total,
        "target": target,
        "error": "" if ok else _("月份格式应为 2026-10，已显示本月。"),
        "chart": chart,
        "basically_counts": sel.satisfied_levels() != [Satisfaction.SATISFIED],
        "public_ranking": settings.CIVICGRID_PUBLIC_RANKING,
    }
    return render(request, "portal/figures.html", context, status=200 if ok else 400)


@require_GET
def ranking(request: HttpRequest) -> HttpResponse:
    """The handling units' public ranking for a month (综合评价, the figures the bureau publishes).

    The same rows, scores and grades as the staff's evaluation page and the API
    (civicgrid.evaluation.tables.evaluation_table, every case); shown only when the bureau
    publishes it (CIVICGRID_PUBLIC_RANKING).
    """
    if not settings.CIVICGRID_PUBLIC_RANKING:
        raise Http404(_("本局未公开单位排名"))
    month, ok = sel.parse_month(request.GET.get("month"))
    if not request.GET.get("month"):
        # The last complete month: the current one is still counting.
        month = (month - timedelta(days=1)).replace(day=1)
    period = month_period(month.year, month.month)
    table = evaluation_table(TABS["unit"], period, EVERYTHING)
    context = {
        "month": month,
        "month_value": month.strftime("%Y-%m"),
        "period": period,
        "rows": table.rows,
        "target": table.config.satisfaction_target,
        "error": "" if ok else _("月份格式应为 2026-10，已显示上月。"),
    }
    return render(request, "portal/ranking.html", context, status=200 if ok else 400)
