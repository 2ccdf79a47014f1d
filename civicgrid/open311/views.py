"""Open311 GeoReport v2 endpoints under /open311/v2/ (see docs/open311.md).

Plain function views: each reads its arguments the spec's way (an empty argument is the same
as an omitted one), calls a selector or civicgrid.open311.services, and renders one document in
the format of the URL's suffix. Every failure answers the spec's error body: 404 for what does
not exist, 403 for a missing or wrong api_key, 400 for everything else.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from civicgrid.audit.context import client_ip
from civicgrid.cases.models import Attachment
from civicgrid.core import keyset
from civicgrid.open311 import conf, selectors
from civicgrid.open311.formats import Many, errors, render, render_many
from civicgrid.open311.models import Submission
from civicgrid.open311.services import Rejected, app_for_key, check_rate, parse_w3c, submission_create


class _BadRequest(Exception):
    def __init__(self, status: int, *problems):
        super().__init__(problems)
        self.status = status
        self.problems = problems


def _arg(params, name: str) -> str:
    return (params.get(name) or "").strip()


def _list(params, name: str) -> list[str]:
    return [item.strip() for item in _arg(params, name).split(",") if item.strip()]


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "xml"})).removesuffix("discovery.xml")


def _check_jurisdiction(params) -> None:
    given = _arg(params, "jurisdiction_id")
    expected = conf.get("CIVICGRID_OPEN311_JURISDICTION_ID")
    # One jurisdiction per server: jurisdiction_id is optional; a different one does not exist here.
    if given and expected and given != expected:
        raise _BadRequest(404, f"jurisdiction_id {given} not found")


def _only(*methods: str):
    def decorate(view):
        def wrapped(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
            if request.method not in methods:
                return errors(
                    fmt, 400, (405, f"{request.method} is not supported here"), headers={"Allow": ", ".join(methods)}
                )
            try:
                _check_jurisdiction(request.POST if request.method == "POST" else request.GET)
                return view(request, fmt, **kwargs)
            except _BadRequest as bad:
                return errors(fmt, bad.status, *bad.problems)
            except Rejected as rejected:
                return errors(fmt, rejected.status, *rejected.problems, headers=rejected.headers)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


#
# Discovery and services
#


@_only("GET", "HEAD")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    changeset = selectors.changeset()
    document = {
        "changeset": changeset,
        "contact": conf.get("CIVICGRID_OPEN311_CONTACT"),
        "key_service": conf.get("CIVICGRID_OPEN311_KEY_SERVICE"),
        "endpoints": Many(
            "endpoints",
            "endpoint",
            [
                {
                    "specification": selectors.SPECIFICATION,
                    "url": _base_url(request).rstrip("/"),
                    "changeset": changeset,
                    "type": conf.get("CIVICGRID_OPEN311_ENDPOINT_TYPE"),
                    "formats": Many("formats", "format", ["text/xml", "application/json"]),
                }
            ],
        ),
    }
    return render(fmt, "discovery", document)


@_only("GET", "HEAD")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return render_many(fmt, selectors.service_list())


@_only("GET", "HEAD")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    category = selectors.service_for_code(service_code)
    if category is None:
        raise _BadRequest(404, f"service_code {service_code} not found")
    return render(fmt, "service_definition", selectors.service_definition(category))


#
# Service requests
#


@csrf_exempt
@sensitive_post_parameters("api_key", "email", "phone", "first_name", "last_name")
@_only("GET", "HEAD", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    return _get_requests(request, fmt)


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    key = _arg(request.POST, "api_key")
    if not key and "api_key" in request.GET:
        # A key in the URL ends up in access logs; it is accepted only in the body.
        raise _BadRequest(403, (403, "api_key must be sent in the form-encoded request body, not in the URL"))
    app = app_for_key(key)
    if app is None:
        raise _BadRequest(403, (403, "api_key is missing or invalid" if key else "api_key is required"))
    ip = client_ip(request)
    _check_burst(ip, _arg(request.POST, "phone"))
    check_rate(ip)
    accepted = submission_create(post=request.POST, files=request.FILES, app=app, client_ip=ip)
    item = {"service_request_id": accepted.case_number, "service_notice": accepted.service_notice}
    account_id = _arg(request.POST, "account_id")
    if account_id:
        item["account_id"] = account_id
    return render_many(fmt, Many("service_requests", "request", [item]))


def _check_burst(ip: str | None, phone: str) -> None:
    """The cache-based limits per address and per phone number shared with the portal
    (civicgrid.core.ratelimit); over either, HTTP 429 with the spec's error body."""
    from civicgrid.core.ratelimit import rate_hit, rate_setting, retry_after

    for scope, identity, rate in (
        ("open311-ip", ip, rate_setting("CIVICGRID_OPEN311_RATE_PER_IP", "")),
        (
            "open311-phone",
            "".join(c for c in phone if c.isdigit()),
            rate_setting("CIVICGRID_PORTAL_RATE_PER_PHONE", "5/h"),
        ),
    ):
        if not rate_hit(scope, identity, rate):
            raise Rejected(429, [(429, "提交过于频繁，请稍后再试")], headers={"Retry-After": str(retry_after(rate))})


def _true(params, name: str) -> bool:
    return _arg(params, name).lower() in ("true", "1", "yes")


def _date(params, name: str):
    raw = _arg(params, name)
    if not raw:
        return None
    value = parse_w3c(raw)
    if value is None:
        raise _BadRequest(400, f"{name} must be a W3C date and time with a time zone, e.g. 2026-11-30T00:00:00Z")
    return value


def _positive(params, name: str, default: int, maximum: int | None = None) -> int:
    raw = _arg(params, name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise _BadRequest(400, f"{name} must be a positive integer")
    value = int(raw)
    return min(value, maximum) if maximum else value


def _get_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    cap = conf.get("CIVICGRID_OPEN311_MAX_REQUESTS")
    max_days = conf.get("CIVICGRID_OPEN311_MAX_DAYS")
    extensions = _true(params, "extensions")
    page_size = _positive(params, "page_size", cap, maximum=cap)
    page = _positive(params, "page", 1)
    qs = selectors.published_cases()

    ids = _list(params, "service_request_id")
    if ids:
        # The spec: a list of ids overrides every other filter.
        qs = qs.filter(number__in=ids[:cap])
    else:
        qs = _filtered(params, qs, max_days)
    qs = qs.order_by("-created_at", "-id")
    cursor = _arg(params, "cursor")
    if cursor:
        # The extension for deep pages: the cursor of a Link header, instead of page=N (which
        # reads every request before the page: page 20 of a 30-day window took 139 ms).
        try:
            direction, created_at, pk = keyset.decode(cursor)
        except keyset.BadCursor:
            direction = None
        if direction != keyset.OLDER:
            raise _BadRequest(400, "cursor is not valid: start again without it, then follow the Link header")
        window = qs.filter(keyset.older_than(created_at, pk))[:page_size]
    else:
        offset = (page - 1) * page_size
        window = qs[offset : offset + page_size]
    rows = selectors.request_rows(window, extensions=extensions)
    response = render_many(fmt, _documents(request, rows, extensions))
    if len(rows) == page_size and not ids:
        # A full page: the next one, by cursor (RFC 8288 Link, rel="next").
        last = rows[-1]
        after = keyset.encode_key(keyset.OLDER, selectors.time_from_text(last["requested"]), last["id"])
        query = params.copy()
        query.pop("page", None)
        query["cursor"] = after
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
    return response


def _documents(request: HttpRequest, rows: list[dict], extensions: bool) -> Many:
    return selectors.request_documents(rows, absolute=_absolute(request), extensions=extensions)


def _filtered(params, qs, max_days: int):
    problems = []
    codes = _list(params, "service_code")
    if codes:
        qs = qs.filter(category_id__in=[int(code) for code in codes if code.isdigit()])
    statuses = {s.lower() for s in _list(params, "status")}
    if statuses - {"open", "closed"}:
        problems.append("status must be open, closed or both (comma-separated)")
    elif statuses:
        qs = qs.filter(status__in=selectors.statuses_for(statuses))
    detailed = {s.upper() for s in _list(params, "detailed_status")}
    if detailed - set(selectors.DETAILED_STATUSES):
        problems.append(f"detailed_status must be among {', '.join(selectors.DETAILED_STATUSES)}")
    elif detailed:
        qs = qs.filter(status__in=[s for s, d in selectors.DETAILED_STATUS.items() if d in detailed])

    start, end = _date(params, "start_date"), _date(params, "end_date")
    updated_after, updated_before = _date(params, "updated_after"), _date(params, "updated_before")
    span = timedelta(days=max_days)
    if start and end:
        if start > end:
            problems.append("start_date is after end_date")
        elif end - start > span:
            problems.append(f"start_date and end_date may not span more than {max_days} days")
    elif start:
        end = start + span
    elif end:
        start = end - span
    elif not (updated_after or updated_before):
        # The spec's default: the most recent 90 days. A change feed (updated_after/before)
        # asks for what changed, however old the request.
        end = timezone.now()
        start = end - span
    if updated_after and updated_before and updated_after > updated_before:
        problems.append("updated_after is after updated_before")
    if problems:
        raise _BadRequest(400, *problems)
    if start is not None:
        qs = selectors.in_window(qs, start, end)
    if updated_after:
        qs = qs.filter(updated_at__gt=updated_after)
    if updated_before:
        qs = qs.filter(updated_at__lt=updated_before)
    return qs


def _absolute(request: HttpRequest):
    base = _base_url(request)
    return lambda path: base + path


@_only("GET", "HEAD")
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    extensions = _true(request.GET, "extensions")
    rows = selectors.request_rows(selectors.published_cases().filter(number=service_request_id), extensions=extensions)
    if not rows:
        raise _BadRequest(404, f"service_request_id {service_request_id} not found")
    return render_many(fmt, _documents(request, rows, extensions))


@_only("GET", "HEAD")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    submission = Submission.objects.filter(token=token).select_related("case").first()
    if submission is None:
        raise _BadRequest(404, f"token {token} not found")
    item = {"service_request_id": submission.case.number, "token": submission.token}
    return render_many(fmt, Many("service_requests", "request", [item]))


def media(request: HttpRequest, pk: int) -> FileResponse:
    """A photo the public sent with a request through this interface (the stored, metadata-free copy)."""
    attachment = (
        Attachment.objects.filter(
            pk=pk,
            kind=Attachment.Kind.BEFORE,
            case__category__is_public=True,
            case__open311_submission__isnull=False,
        )
        .only("file", "content_type")
        .first()
    )
    if attachment is None:
        raise Http404
    return FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)


def not_found(request: HttpRequest, path: str) -> HttpResponse:
    """Anything else under /open311/v2/: the spec's 404 error body, JSON when the path asks for it."""
    fmt = "json" if path.endswith(".json") else "xml"
    return errors(fmt, 404, f"/{path} is not a resource of this Open311 server")
