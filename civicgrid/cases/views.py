"""Workbenches (工作台): queues per role, the case page with its actions, reports from the desk
and the inspector's phone.

Views stay thin: reads go through civicgrid.cases.selectors (always scoped to the user),
writes through civicgrid.cases.services.case_report / case_act, whose errors are shown on the
form that caused them. HTMX requests get only the list partial (core.htmx.htmx_partial).
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.audit.services import audit_contact_view
from civicgrid.cases import reference, selectors
from civicgrid.cases.forms import FIELD_OF, MARKS, REQUESTS, ActionForm, FilterForm, ReportForm
from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.services import (
    ActInput,
    ActionForbidden,
    CaseConflict,
    CaseError,
    CaseNotFound,
    InvalidInput,
    ReportInput,
    case_act,
    case_report,
)
from civicgrid.cases.templatetags import case_tags
from civicgrid.cases.workflow import TERMINAL, Action, Status, actions_available
from civicgrid.catalog.models import Category
from civicgrid.core.htmx import htmx_partial
from civicgrid.core.keyset import BadCursor, keyset_page
from civicgrid.core.models import Role

PAGE_SIZE = 50
# 全部案件 with a filter counts its matches up to this many, then shows "共 1000+ 件".
LIST_COUNT_CAP = 1000
# What a list row reads (see _rows; created_at, id are also the keyset cursor of 全部案件).
LIST_COLUMNS = (
    "id",
    "number",
    "status",
    "address",
    "urgent",
    "supervised",
    "stage_paused",
    "stage_deadline",
    "stage_warn_at",
    "created_at",
    "category_id",
    "handling_unit_id",
)
MOBILE_TASK_LIMIT = 100
# What _get_case_for_user reads: all of the case, and what the case pages show of its relations
# (a field left out here would be read by a query of its own when used).
CASE_PAGE_COLUMNS = (
    *(field.name for field in Case._meta.concrete_fields),
    "category__name",
    "category__major_name",
    "category__default_handling_unit_id",
    "grid__code",
    "grid__name",
    "grid__geometry",
    "community__name",
    "street__name",
    "handling_unit__name",
    "reporter__username",
    "reporter__display_name",
    "assignee__username",
    "assignee__display_name",
    "duplicate_of__number",
)


def _get_case_for_user(user, pk: int) -> Case:
    """The case if it is in the user's scope, else 404 (its existence is not revealed)."""
    # The case whole, of its relations only what the case pages show: every column of the
    # seven joined tables (~190) took ~5 ms to compile into SQL and read. No ORDER BY either
    # (first() adds one on the pk, and compiling it compared the pk with each selected column).
    found = (
        Case.objects.visible_to(user)
        .select_related(
            "category", "grid", "community", "street", "handling_unit", "reporter", "assignee", "duplicate_of"
        )
        .only(*CASE_PAGE_COLUMNS)
        .filter(pk=pk)
        .order_by()[:1]
    )
    case = next(iter(found), None)
    if case is None:
        raise Http404(_("案件不存在或不在您的数据权限范围内"))
    return case


def _actions_for(user, case: Case) -> list[Action]:
    """What this user may do to this case now: the table's answer, less what the service would
    refuse anyway (a handler acts only on his own unit's cases)."""
    if user.role == Role.HANDLER and case.handling_unit_id != user.org_unit_id:
        return []
    return actions_available(case.status, user.role)


#
# Workbench
#


@require_GET
@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    user = request.user
    queues = selectors.queues_for(user)
    keys = [q.key for q in queues]
    partial = htmx_partial(request)
    counts = {} if partial else selectors.queue_counts(user)
    key = request.GET.get("queue", "")
    if key not in keys:
        # Leaders and admins watch the late cases; everyone else starts at their first queue with work.
        order = ["overdue", "supervised", *keys] if user.role in (Role.LEADER, Role.ADMIN) else keys
        key = next((k for k in order if counts.get(k)), keys[0] if keys else "")

    error = ""
    qs = selectors.queue_cases(user, key)
    try:
        qs = selectors.case_filter(qs, request.GET)
    except selectors.FilterError as exc:
        error = _("筛选条件有误：%(reason)s") % {"reason": exc.reason}
        qs = qs.none()
    # In the queue's order: soonest deadline first (cases without a limit after them), or for
    # "all" the newest first. Only the columns a row shows; the category's and unit's names come
    # from civicgrid.cases.reference, not a join: every column of the case, its category (with
    # its long texts and JSON) and its unit, built into 150 model instances, was 12-17 ms of a
    # queue page.
    qs = qs.only(*LIST_COLUMNS)
    list_count, list_capped = None, False
    if key == "all":
        # Every case in scope, newest first: paged by cursor (see civicgrid.core.keyset), and
        # counted only when filtered (the cockpit's and the evaluation's drill-downs show their
        # number again); never the whole table.
        try:
            page = keyset_page(qs, request.GET.get("cursor"), PAGE_SIZE)
        except BadCursor:
            page = keyset_page(qs, None, PAGE_SIZE)
        cases = page.items
        if not error and any(request.GET.get(f) for f in selectors.FILTER_FIELDS):
            # Counted up to the cap only: an address search over a county of a million cases
            # took over 2 s to count in full. The drill-downs' numbers are far below it.
            list_count = qs.order_by()[: LIST_COUNT_CAP + 1].count()
            list_capped = list_count > LIST_COUNT_CAP
            list_count = min(list_count, LIST_COUNT_CAP)
    else:
        paginator = Paginator(qs, PAGE_SIZE)
        if key in counts and not error and not any(request.GET.get(f) for f in selectors.FILTER_FIELDS):
            # The tab's count is this list's count when no filter applies: do not count it twice.
            paginator.count = counts[key]
        page = paginator.get_page(request.GET.get("page"))
        cases = list(page.object_list)
    now = timezone.now()
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("cursor", None)
    params["queue"] = key
    context = {
        "queues": [{"key": q.key, "label": q.label, "count": counts.get(q.key)} for q in queues],
        "queue": key,
        "page": page,
        "keyset": key == "all",
        "list_count": list_count,
        "list_capped": list_capped,
        "cases": cases,
        "rows": _rows(cases, now),
        "error": error,
        "querystring": params.urlencode(),
        "newest_first": key == "all",
        "now": now,
    }
    if partial:
        return render(request, "cases/_case_list.html", context)
    # Bound to the query so the bar shows what is applied (it is never validated: case_filter is).
    context["filter_form"] = FilterForm(params, user=user)
    return render(request, "cases/workbench.html", context)


def _rows(cases: list[Case], now) -> list[SafeString]:
    """Each row of the list, drawn here: filters and {% url %} per row, then the template's
    loop over 50 rows of ten variables each, were most of a queue page's time (the loop alone
    ~5 ms). Every value is escaped; the markup is what cases/_case_list.html drew before."""
    detail = reverse("cases:detail", args=[0])[: -len("0/")]
    # get_status_display() rebuilds and hashes the choices (translating each lazy label) on
    # every call: 50 calls were ~4 ms of a page.
    statuses = {value: escape(label) for value, label in Status.choices}
    urgent = f'<span class="flag urgent">{escape(_("紧急"))}</span>'
    supervised = f'<span class="flag supervised">{escape(_("督办"))}</span>'
    rows = []
    for case in cases:
        light = case.light(now)
        light_label = escape(case_tags.light_label(light))
        address = escape(case.address)
        unit = reference.unit_name(case.handling_unit_id) or "—"
        flags = (urgent if case.urgent else "") + (supervised if case.supervised else "")
        rows.append(
            mark_safe(
                "<tr>\n"
                f'    <td class="nowrap"><a href="{detail}{case.pk}/">{escape(case.number)}</a></td>\n'
                f'    <td class="c"><span class="light {light}" title="{light_label}">'
                f'<span class="sr">{light_label}</span></span></td>\n'
                f"    <td>{escape(reference.category_name(case.category_id))}</td>\n"
                f'    <td class="addr" title="{address}">{address}</td>\n'
                f'    <td class="nowrap">{statuses.get(case.status) or escape(case.status)}</td>\n'
                f"    <td>{escape(unit)}</td>\n"
                f'    <td class="nowrap deadline {light}">{escape(case_tags.deadline_text(case, now))}</td>\n'
                f'    <td class="nowrap">{flags}</td>\n'
                "  </tr>"
            )
        )
    return rows


#
# Case page
#


def _detail_context(request: HttpRequest, case: Case, bound: ActionForm | None = None) -> dict:
    user = request.user
    now = timezone.now()
    actions = _actions_for(user, case)
    forms = []
    for action in actions:
        if bound is not None and bound.action == action:
            forms.append(bound)
        else:
            forms.append(ActionForm(action=action, case=case))
    # The step that moves the case on comes first, then requests and refusals, marks (督办, 催办) last.
    forms.sort(key=lambda form: (form.action in MARKS, form.action in REQUESTS, form.is_negative))
    events = list(case.events.select_related("actor", "unit"))
    # All the case's files in one query: each event's own (event.files) and the photos.
    attachments = list(case.attachments.order_by("created_at", "id"))
    by_event = defaultdict(list)
    for attachment in attachments:
        by_event[attachment.event_id].append(attachment)
    for event in events:
        event.files = by_event.get(event.pk, [])
    # An approved extension's event names the amount; its unit is on the request before it.
    unit = ""
    for event in events:
        if event.data.get("time_unit"):
            unit = event.data["time_unit"]
        elif event.data.get("amount") and unit:
            event.data = {**event.data, "time_unit": unit}
    stages = []
    for stage in case.stages.all():
        end = stage.ended_at or now
        stages.append(
            {
                "row": stage,
                "duration": end - stage.started_at,
                "running": stage.ended_at is None,
                "late": stage.on_time is False or (stage.ended_at is None and stage.deadline and now > stage.deadline),
            }
        )
    photos = [a for a in attachments if a.kind != Attachment.Kind.DOCUMENT]
    show_contact = selectors.can_see_contact(user)
    if show_contact and case.reporter_phone:
        audit_contact_view(actor=user, obj=case, request=request, note=_("案件页面"))
    can_merge = Action.MERGE in actions
    return {
        "case": case,
        "finished": case.status in TERMINAL,
        "light": case.light(now),
        "now": now,
        "codes": list(case.category.codes.all()),
        "action_forms": forms,
        "events": events,
        "stages": stages,
        "before_photos": [p for p in photos if p.kind == Attachment.Kind.BEFORE],
        "after_photos": [p for p in photos if p.kind == Attachment.Kind.AFTER],
        "phone": case.reporter_phone if show_contact else case.masked_phone,
        "duplicates": selectors.duplicate_candidates(case, user) if can_merge else [],
        "can_merge": can_merge,
        # The reporter's ratings (portal or 12345 回访), oldest first, for the 满意度评价 box.
        "ratings": list(case.ratings.select_related("unit")),
        "map_config": {
            "grid": case.grid.geometry,
            "point": [case.lon, case.lat],
            "tileUrl": settings.TILE_URL,
            "tileAttribution": settings.TILE_ATTRIBUTION,
        },
    }


@require_GET
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case_for_user(request.user, pk)
    return render(request, "cases/detail.html", _detail_context(request, case))


@require_POST
@login_required
def case_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply one action from the case page (or the mobile case page, next=m)."""
    user = request.user
    case = _get_case_for_user(user, pk)
    mobile = request.POST.get("next") == "m"
    template = "cases/mobile_case.html" if mobile else "cases/detail.html"

    def again(status: int, bound: ActionForm | None = None, fresh: bool = False) -> HttpResponse:
        shown = _get_case_for_user(user, pk) if fresh else case
        if fresh:
            bound = None
        return render(request, template, _detail_context(request, shown, bound), status=status)

    try:
        action = Action(request.POST.get("action", ""))
    except ValueError:
        messages.error(request, _("未知的操作"))
        return again(400)
    form = ActionForm(request.POST, request.FILES, action=action, case=case)
    if not form.is_valid():
        return again(400, form)
    try:
        case_act(case_id=case.pk, data=ActInput(**form.to_input()), actor=user)
    except CaseConflict as exc:
        messages.error(
            request,
            _("该案件已被他人处理，当前状态：%(status)s。请查看最新情况后再操作。")
            % {"status": Status(exc.current_status).label},
        )
        return again(409, fresh=True)
    except InvalidInput as exc:
        form.add_error(FIELD_OF.get(exc.field or ""), exc.reason)
        return again(400, form)
    except ActionForbidden as exc:
        messages.error(request, exc.reason)
        return again(403)
    except CaseNotFound:
        raise Http404(_("案件不存在或不在您的数据权限范围内")) from None
    messages.success(request, _("已%(action)s：%(number)s") % {"action": action.label, "number": case.number})
    if mobile:
        # A verified or checked case leaves the inspector's tasks: back to the list for the next.
        return redirect(reverse("cases:mobile") + "#tasks")
    if not Case.objects.visible_to(user).filter(pk=case.pk).exists():
        # Returned or dispatched away from this user's unit: back to the queue.
        return redirect("cases:workbench")
    return redirect("cases:detail", pk=case.pk)


#
# Reports
#


def _report(request: HttpRequest, form: ReportForm) -> Case | None:
    """case_report from a valid form, or None with the service's error put onto the form."""
    data = form.cleaned_data
    try:
        return case_report(
            data=ReportInput(
                channel=data["channel"],
                category_id=data["category"],
                lon=data["lon"],
                lat=data["lat"],
                description=data["description"],
                address=data.get("address", ""),
                reporter_name=data.get("reporter_name", ""),
                reporter_phone=data.get("reporter_phone", ""),
                urgent=data.get("urgent", False),
                self_handled=data.get("self_handled", False),
                photos=data.get("photos") or [],
            ),
            actor=request.user,
        )
    except CaseError as exc:
        # Errors about the point or the category are shown above the form (their inputs are
        # a map and a picker); the others beside their field.
        shown_beside = exc.field in ("description", "photos", "channel")
        form.add_error(exc.field if shown_beside and exc.field in form.fields else None, exc.reason)
        return None


@require_http_methods(["GET", "POST"])
@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    """The operator desk's report form."""
    form = ReportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        case = _report(request, form)
        if case is not None:
            messages.success(request, _("已登记案件 %(number)s") % {"number": case.number})
            return redirect("cases:detail", pk=case.pk)
    context = {
        "form": form,
        "map_config": {
            "dataUrl": reverse("geo:map-data"),
            "pick": True,
            "tileUrl": settings.TILE_URL,
            "tileAttribution": settings.TILE_ATTRIBUTION,
        },
    }
    return render(request, "cases/new.html", context, status=400 if form.errors else 200)


@require_GET
@login_required
def category_search(request: HttpRequest) -> HttpResponse:
    """Active categories matching a name (HTMX partial for the category pickers)."""
    q = request.GET.get("q", "").strip()
    qs = Category.objects.filter(is_active=True)
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(major_name__icontains=q)
    categories = list(qs.order_by("sort_order", "name")[:20])
    return render(request, "cases/_category_results.html", {"categories": categories, "q": q})


#
# Inspector's phone
#


@require_http_methods(["GET", "POST"])
@login_required
def mobile(request: HttpRequest) -> HttpResponse:
    """Report from the phone (camera photo, GPS) and the list of my verify and check tasks."""
    form = ReportForm(request.POST or None, request.FILES or None, user=request.user, mobile=True)
    if request.method == "POST" and form.is_valid():
        case = _report(request, form)
        if case is not None:
            messages.success(request, _("已上报 %(number)s") % {"number": case.number})
            return redirect("cases:mobile")
    context = {
        "form": form,
        "map_config": {
            "dataUrl": reverse("geo:map-data"),
            "pick": True,
            "compact": True,
            "tileUrl": settings.TILE_URL,
            "tileAttribution": settings.TILE_ATTRIBUTION,
        },
        **_task_context(request),
    }
    return render(request, "cases/mobile.html", context, status=400 if form.errors else 200)


def _task_context(request: HttpRequest) -> dict:
    user = request.user
    try:
        lon, lat = float(request.GET["lon"]), float(request.GET["lat"])
    except (KeyError, ValueError):
        lon = lat = None
    tasks = []
    if user.role == Role.INSPECTOR:
        for key in ("verify", "check"):
            qs = selectors.queue_cases(user, key).select_related("category")[:MOBILE_TASK_LIMIT]
            tasks.extend({"case": case, "kind": key} for case in qs)
    if lon is not None and lat is not None:
        for task in tasks:
            task["distance"] = selectors.distance_m(lon, lat, task["case"].lon, task["case"].lat)
        tasks.sort(key=lambda t: t["distance"])
    else:
        tasks.sort(key=lambda t: (t["case"].stage_deadline is None, t["case"].stage_deadline or t["case"].created_at))
    return {"tasks": tasks, "by_distance": lon is not None, "now": timezone.now()}


@require_GET
@login_required
def mobile_tasks(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/_mobile_tasks.html", _task_context(request))


@require_GET
@login_required
def mobile_case(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case_for_user(request.user, pk)
    return render(request, "cases/mobile_case.html", _detail_context(request, case))
