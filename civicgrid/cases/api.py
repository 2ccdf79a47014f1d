"""REST API for cases, under /api/v1/ (docs/api.md).

GET  cases/                           list, with the workbench filters, ?queue=, ?ordering=, paging
                                      (?page= numbered and counted; ?cursor= newest first, not counted)
POST cases/                           report a case (JSON, or multipart with `photos`)
GET  cases/queues/                    this user's queues with counts
GET  cases/{id}/                      detail: timeline, stage clocks, files, the user's actions
POST cases/{id}/actions/{action}/     one action of the transition table (civicgrid.cases.workflow)
GET  cases/{id}/events/               the timeline
GET  cases/{id}/attachments/          photos and documents
POST cases/{id}/attachments/          add a document or a before-photo (multipart)

Every read starts from Case.objects.visible_to(user): a case outside the user's scope is a
404, the same answer as a case that does not exist. Writes go through civicgrid.cases.services;
their CaseError carries the HTTP status. Errors have the project shape (civicgrid.core.api).
"""

from __future__ import annotations

from django.db.models import F, Prefetch
from django.http import Http404, JsonResponse
from django.utils.translation import gettext, gettext_lazy, pgettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from civicgrid.audit.services import audit_contact_view
from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseStage, Channel
from civicgrid.cases.selectors import (
    FilterError,
    can_see_contact,
    case_filter,
    duplicate_candidates,
    queue_cases,
    queue_counts,
    queues_for,
)
from civicgrid.cases.serializers import (
    AttachmentSerializer,
    CaseCreatedSerializer,
    CaseDetailSerializer,
    CaseListSerializer,
    EventSerializer,
)
from civicgrid.cases.services import (
    ActInput,
    CaseConflict,
    CaseError,
    InvalidInput,
    ReportInput,
    case_act,
    case_attach,
    case_report,
)
from civicgrid.cases.workflow import Action, Status, actions_available
from civicgrid.core.api import error_response
from civicgrid.core.auth import CachedTokenAuthentication
from civicgrid.core.files import stored_file_response
from civicgrid.core.keyset import BadCursor, keyset_page
from civicgrid.core.models import Role
from civicgrid.geo.coords import CRS_CHOICES

# Error bodies are the project shape; documented once for every endpoint.
ERRORS = {code: OpenApiTypes.OBJECT for code in (400, 403, 404)}
NOT_FOUND = gettext_lazy("案件不存在或不在您的数据权限范围内")


def record_contact_view(request: Request, case: Case) -> None:
    """Audit one unmasked view of a case's reporter phone (the issue's §7: every such view is recorded)."""
    audit_contact_view(actor=request.user, obj=case, request=request, note="API 查看反映人电话")


def _case_error(exc: CaseError) -> Response | JsonResponse:
    if isinstance(exc, CaseConflict):
        return _conflict(exc.reason, exc.current_status, exc.current_version)
    return error_response(exc.field, exc.reason, exc.status)


def _conflict(reason: str, current_status: str, current_version: int) -> Response:
    """409 for a wrong-state or stale action: the project error shape plus the state to refresh to."""
    problem = {"field": None, "reason": reason}
    return Response(
        {
            "error": problem,
            "errors": [problem],
            "current_status": current_status,
            "current_status_label": str(Status(current_status).label),
            "current_version": current_version,
        },
        status=409,
    )


LIST_RELATED = ("category", "grid", "street", "community", "handling_unit")


def _list_queryset(user):
    # Every relation the list serializer reads, in the one query.
    return Case.objects.visible_to(user).select_related(*LIST_RELATED)


def _visible_case(user, case_id: int, *, detail: bool = False) -> Case | None:
    qs = _list_queryset(user)
    if detail:
        qs = qs.select_related("duplicate_of").prefetch_related(
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor", "unit").order_by("at", "id")),
            Prefetch("stages", queryset=CaseStage.objects.order_by("started_at", "id")),
            Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id")),
        )
    return qs.filter(pk=case_id).first()


def _actions_for(user, case: Case) -> list[Action]:
    # A handler acts only on their own unit's cases (the service refuses the others with 403).
    if user.role == Role.HANDLER and case.handling_unit_id != user.org_unit_id:
        return []
    return actions_available(case.status, user.role)


def _detail_response(request: Request, case_id: int, *, status_code: int = 200) -> Response | JsonResponse:
    user = request.user
    case = _visible_case(user, case_id, detail=True)
    if case is None:
        return error_response(None, NOT_FOUND, 404)
    actions = _actions_for(user, case)
    # Duplicates are offered to whoever may merge this case now (operators, shift leads).
    duplicates = duplicate_candidates(case, user) if Action.MERGE in actions else []
    show_contact = can_see_contact(user)
    context = {"request": request, "show_contact": show_contact, "actions": actions, "duplicates": duplicates}
    data = CaseDetailSerializer(case, context=context).data
    if show_contact and case.reporter_phone:
        record_contact_view(request, case)
    return Response(data, status=status_code)


def _created_response(request: Request, case: Case) -> Response:
    """201 for a new case: the list fields from the case just written (no re-read), its photos,
    the actions the reporter may take now, and the detail's address in Location (the detail
    has the timeline and, for a user who may merge, the duplicate suggestions)."""
    user = request.user
    attachments = list(case.attachments.order_by("id")) if _photos(request) else []
    context = {
        "request": request,
        "show_contact": can_see_contact(user),
        "actions": _actions_for(user, case),
        "attachments": attachments,
    }
    data = CaseCreatedSerializer(case, context=context).data
    # The reporter's own phone, echoed back, is not a view of someone else's contact details.
    return Response(data, status=201, headers={"Location": f"/api/v1/cases/{case.pk}/"})


def _photos(request: Request) -> list:
    return request.FILES.getlist("photos") if request.FILES else []


class CaseApiView(APIView):
    # Token first: an app without valid credentials gets 401 with "WWW-Authenticate: Token"
    # (session first would answer 403); the browser's session still works.
    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]


class CasePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


#
# List and report
#

ORDERINGS = {
    "stage_deadline": (F("stage_deadline").asc(nulls_last=True), "created_at", "id"),
    "-stage_deadline": (F("stage_deadline").desc(nulls_last=True), "-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}

LIST_PARAMETERS = [
    OpenApiParameter(
        "queue",
        str,
        description="队列：verify/file/dispatch/sign/handle/approve/check/close/overdue/supervised，"
        "或 all（全部案件，最新在前）",
    ),
    OpenApiParameter("category", int, description="分类编号"),
    OpenApiParameter("street", str, description="街道代码"),
    OpenApiParameter("grid", str, description="单元网格编码"),
    OpenApiParameter("channel", str, enum=Channel.values, description="来源渠道"),
    OpenApiParameter("status", str, description="状态，多个用逗号分隔"),
    OpenApiParameter("overdue", bool, description="只看超期（true）或未超期（false）"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="上报日期起"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="上报日期止（含）"),
    OpenApiParameter("q", str, description="案件编号或地址包含"),
    OpenApiParameter("ordering", str, enum=list(ORDERINGS), description="排序，默认 -created_at（队列默认按期限）"),
    OpenApiParameter("page", int, description="页码"),
    OpenApiParameter(
        "cursor",
        str,
        description="按游标翻页（只用于按上报时间倒序的列表）：第一页传空值，之后用回复中 next/previous 的链接；"
        "回复不含 count，深页与第一页一样快",
    ),
    OpenApiParameter("page_size", int, description="每页条数，最多 200"),
]


@extend_schema_serializer(component_name="CaseListPage")
class CaseListPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CaseListSerializer(many=True)


class CaseListApi(CaseApiView):
    """GET: the cases this user may see, filtered; POST: report a new case (上报)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="CaseReportInput")
    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(
            choices=Channel.choices,
            error_messages={
                "invalid_choice": gettext_lazy("未知的来源渠道"),
                "required": gettext_lazy("请选择来源渠道"),
            },
        )
        category = serializers.IntegerField(
            error_messages={"invalid": gettext_lazy("分类应为编号"), "required": gettext_lazy("请选择分类")}
        )
        lon = serializers.FloatField(
            error_messages={"invalid": gettext_lazy("经度应为数字"), "required": gettext_lazy("请提供位置（经度）")}
        )
        lat = serializers.FloatField(
            error_messages={"invalid": gettext_lazy("纬度应为数字"), "required": gettext_lazy("请提供位置（纬度）")}
        )
        crs = serializers.ChoiceField(
            choices=list(CRS_CHOICES),
            default="wgs84",
            error_messages={"invalid_choice": gettext_lazy("坐标系应为 wgs84、gcj02 或 bd09")},
        )
        description = serializers.CharField(
            max_length=4000,
            error_messages={
                "required": gettext_lazy("请填写问题描述"),
                "blank": gettext_lazy("请填写问题描述"),
                "max_length": gettext_lazy("问题描述不能超过 4000 字"),
            },
        )
        address = serializers.CharField(required=False, allow_blank=True, default="", max_length=256)
        reporter_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
        reporter_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
        self_handled = serializers.BooleanField(default=False, help_text="监督员自处理")
        urgent = serializers.BooleanField(default=False)
        photos = serializers.ListField(
            child=serializers.FileField(), required=False, help_text="处置前照片（multipart，可多张）"
        )

    @extend_schema(
        operation_id="v1_cases_list",
        summary="案件列表",
        parameters=LIST_PARAMETERS,
        responses={200: CaseListPageSerializer, **ERRORS},
    )
    def get(self, request: Request):
        user = request.user
        params = request.query_params
        queue = (params.get("queue") or "").strip()
        ordering = (params.get("ordering") or "").strip()
        if queue and queue not in {q.key for q in queues_for(user)}:
            return error_response("queue", gettext("未知的队列或无权查看该队列"), 400)
        if ordering and ordering not in ORDERINGS:
            values = pgettext("list separator", "、").join(ORDERINGS)
            return error_response("ordering", gettext("ordering 应为 %(values)s 之一") % {"values": values}, 400)
        if queue:
            # Already scoped and sorted by deadline.
            qs = queue_cases(user, queue).select_related(*LIST_RELATED)
        else:
            qs = _list_queryset(user)
        try:
            qs = case_filter(qs, params)
        except FilterError as exc:
            return error_response(exc.field, exc.reason, 400)
        if ordering or not queue:
            qs = qs.order_by(*ORDERINGS[ordering or "-created_at"])
        if "cursor" in params:
            # Newest first by cursor: no count, and page 10,000 as fast as page 1 (civicgrid.core.keyset).
            if (queue and queue != "all") or ordering not in ("", "-created_at"):
                return error_response(
                    "cursor", gettext("cursor 只用于按上报时间倒序的列表（不带 queue 或 queue=all）"), 400
                )
            return self._cursor_page(request, qs)
        paginator = CasePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = self._rows(request, page)
        return paginator.get_paginated_response(data)

    def _rows(self, request: Request, cases: list[Case]) -> list:
        show_contact = can_see_contact(request.user)
        data = CaseListSerializer(cases, many=True, context={"request": request, "show_contact": show_contact}).data
        if show_contact:
            for case in cases:
                if case.reporter_phone:
                    record_contact_view(request, case)
        return data

    def _cursor_page(self, request: Request, qs) -> Response | JsonResponse:
        size = CasePagination().get_page_size(request)
        try:
            page = keyset_page(qs, request.query_params.get("cursor"), size)
        except BadCursor:
            return error_response("cursor", gettext("cursor 无效，请从第一页重新开始"), 400)
        url = request.build_absolute_uri()

        def link(cursor):
            return replace_query_param(remove_query_param(url, "page"), "cursor", cursor) if cursor else None

        return Response(
            {
                "next": link(page.next_cursor),
                "previous": link(page.previous_cursor),
                "results": self._rows(request, page.items),
            }
        )

    @extend_schema(
        operation_id="v1_cases_create",
        summary="上报案件",
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={201: CaseCreatedSerializer, **ERRORS},
    )
    def post(self, request: Request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        v = serializer.validated_data
        data = ReportInput(
            channel=v["channel"],
            category_id=v["category"],
            lon=v["lon"],
            lat=v["lat"],
            crs=v["crs"],
            description=v["description"],
            address=v["address"],
            reporter_name=v["reporter_name"],
            reporter_phone=v["reporter_phone"],
            self_handled=v["self_handled"],
            urgent=v["urgent"],
            photos=_photos(request),
        )
        try:
            case = case_report(data=data, actor=request.user)
        except CaseError as exc:
            return _case_error(exc)
        return _created_response(request, case)


class CaseQueuesApi(CaseApiView):
    """This user's queues (待核实, 待立案, …) with the number of cases in each."""

    @extend_schema_serializer(component_name="CaseQueue")
    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        label = serializers.CharField()
        count = serializers.IntegerField(allow_null=True, help_text="件数（全部案件 all 不计数，为 null）")

    @extend_schema(
        operation_id="v1_cases_queues", summary="我的队列与数量", responses={200: OutputSerializer(many=True)}
    )
    def get(self, request: Request):
        counts = queue_counts(request.user)
        rows = [{"key": q.key, "label": str(q.label), "count": counts.get(q.key)} for q in queues_for(request.user)]
        return Response(self.OutputSerializer(rows, many=True).data)


#
# One case
#


class CaseDetailApi(CaseApiView):
    """A case with its timeline, stage clocks, files, the actions this user may take and duplicate suggestions."""

    @extend_schema(
        operation_id="v1_cases_retrieve",
        summary="案件详情",
        responses={200: CaseDetailSerializer, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, case_id: int):
        return _detail_response(request, case_id)


class CaseActApi(CaseApiView):
    """Apply one action of the transition table; 409 with the current state when it is stale or wrong-state."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="CaseActInput")
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(
            help_text="读取案件时的 version",
            error_messages={
                "required": gettext_lazy("请提供案件版本号（version）"),
                "invalid": gettext_lazy("version 应为整数"),
            },
        )
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
        unit = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="派遣：处置单位编号",
            error_messages={"invalid": gettext_lazy("unit 应为单位编号")},
        )
        amount = serializers.CharField(required=False, allow_blank=True, default="", help_text="申请延期：延长的时限")
        duplicate_of = serializers.CharField(required=False, allow_blank=True, default="", help_text="合并：原案件编号")
        resolution_mode = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="处置反馈：service/management/enforcement"
        )
        photos = serializers.ListField(child=serializers.FileField(), required=False, help_text="照片（multipart）")

    @extend_schema(
        operation_id="v1_cases_act",
        summary="执行案件操作",
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=Action.values, description="操作")],
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={200: CaseDetailSerializer, 409: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, case_id: int, action: str):
        if action not in Action.values:
            return error_response("action", gettext("未知的操作：%(action)s") % {"action": action}, 400)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        v = serializer.validated_data
        data = ActInput(
            action=action,
            version=v["version"],
            note=v["note"],
            unit_id=v["unit"],
            amount=v["amount"] or None,
            duplicate_of=v["duplicate_of"] or None,
            resolution_mode=v["resolution_mode"],
            photos=_photos(request),
        )
        try:
            case = case_act(case_id=case_id, data=data, actor=request.user)
        except CaseError as exc:
            return _case_error(exc)
        # Should an action take the case out of the actor's scope, the actor still learns the outcome.
        response = _detail_response(request, case.pk)
        if response.status_code == 404:
            return Response({"id": case.pk, "status": case.status, "version": case.version})
        return response


class CaseEventsApi(CaseApiView):
    """The case's timeline, oldest first."""

    @extend_schema(
        operation_id="v1_cases_events",
        summary="案件操作记录",
        responses={200: EventSerializer(many=True), 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, case_id: int):
        if not Case.objects.visible_to(request.user).filter(pk=case_id).exists():
            return error_response(None, NOT_FOUND, 404)
        events = CaseEvent.objects.filter(case_id=case_id).select_related("actor", "unit").order_by("at", "id")
        return Response(EventSerializer(events, many=True).data)


class CaseAttachmentsApi(CaseApiView):
    """GET: the case's photos and documents; POST: add a document or a before-photo to an open case."""

    parser_classes = [MultiPartParser, FormParser]
    KINDS = (Attachment.Kind.DOCUMENT, Attachment.Kind.BEFORE)

    @extend_schema_serializer(component_name="CaseAttachmentInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            error_messages={
                "required": gettext_lazy("请选择要上传的文件"),
                "invalid": gettext_lazy("请选择要上传的文件"),
                "empty": gettext_lazy("文件是空的"),
            }
        )
        kind = serializers.ChoiceField(
            choices=[(k.value, k.label) for k in (Attachment.Kind.DOCUMENT, Attachment.Kind.BEFORE)],
            default=Attachment.Kind.DOCUMENT,
            error_messages={"invalid_choice": gettext_lazy("kind 应为 document（文件）或 before（处置前照片）")},
        )

    @extend_schema(
        operation_id="v1_cases_attachments_list",
        summary="案件附件",
        responses={200: AttachmentSerializer(many=True), 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, case_id: int):
        if not Case.objects.visible_to(request.user).filter(pk=case_id).exists():
            return error_response(None, NOT_FOUND, 404)
        attachments = Attachment.objects.filter(case_id=case_id).order_by("created_at", "id")
        return Response(AttachmentSerializer(attachments, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="v1_cases_attachments_create",
        summary="上传案件附件",
        request={"multipart/form-data": InputSerializer},
        responses={201: AttachmentSerializer, 409: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, case_id: int):
        case = Case.objects.visible_to(request.user).filter(pk=case_id).first()
        if case is None:
            return error_response(None, NOT_FOUND, 404)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        v = serializer.validated_data
        try:
            attachment = case_attach(case_id=case.pk, kind=v["kind"], file=v["file"], actor=request.user)
        except CaseConflict as exc:
            return _conflict(exc.reason, exc.current_status, exc.current_version)
        except InvalidInput as exc:
            # The service names a rejected photo "photos" (its field on report and act); here it is "file".
            return error_response("file", exc.reason, 400)
        return Response(AttachmentSerializer(attachment, context={"request": request}).data, status=201)


class AttachmentFileApi(CaseApiView):
    """A case's photo, its thumbnail, or a document — for a user who may see the case (404 otherwise)."""

    thumbnail = False

    @extend_schema(
        operation_id="v1_attachments_file",
        summary="附件文件（照片、缩略图或文件）",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int):
        attachment = Attachment.objects.filter(pk=pk, case__in=Case.objects.visible_to(request.user)).first()
        if attachment is None:
            return error_response(None, gettext("附件不存在或不在您的数据权限范围内"), 404)
        try:
            if self.thumbnail:
                return stored_file_response(attachment.thumbnail.name, "image/jpeg")
            return stored_file_response(attachment.file.name, attachment.content_type)
        except Http404:
            return error_response(None, gettext("附件文件已不存在"), 404)
