"""Output shapes of the cases API (civicgrid.cases.api): plain read-only serializers.

Inputs are validated by each API view's nested InputSerializer and by the services; these
only turn rows that the views fetched (with their joins) into JSON, so they must not touch
a relation that the view did not select_related or prefetch.

The reporter's phone is masked unless the serializer context says `show_contact` (operators
and admins, civicgrid.cases.selectors.can_see_contact); the view records each unmasked view.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseStage, Channel, Light
from civicgrid.cases.workflow import TRANSITIONS, Action, Status
from civicgrid.catalog.models import Stage, TimeUnit


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


@extend_schema_serializer(component_name="CaseRef")
class IdNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="CaseRegionRef")
class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="CaseCounts")
class CountsSerializer(serializers.Serializer):
    remind = serializers.IntegerField(source="remind_count", help_text="催办次数")
    rework = serializers.IntegerField(source="rework_count", help_text="返工次数")
    extension = serializers.IntegerField(source="extension_count", help_text="延期次数")
    return_ = serializers.IntegerField(source="return_count", help_text="回退次数")
    deferral = serializers.IntegerField(source="deferral_count", help_text="缓办次数")

    def get_fields(self):
        # "return" is a Python keyword; the JSON key is still "return".
        fields = super().get_fields()
        fields["return"] = fields.pop("return_")
        return fields


class CaseListSerializer(serializers.Serializer):
    """One row of GET /api/v1/cases/ (and the head of the detail)."""

    id = serializers.IntegerField()
    number = serializers.CharField(help_text="案件编号，例如 360725-2026-000123")
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.SerializerMethodField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    channel_label = serializers.SerializerMethodField()
    category = IdNameSerializer()
    address = serializers.CharField()
    lon = serializers.FloatField(help_text="WGS84 经度")
    lat = serializers.FloatField(help_text="WGS84 纬度")
    grid = serializers.CharField(source="grid.code", help_text="单元网格编码")
    street = CodeNameSerializer()
    community = CodeNameSerializer()
    handling_unit = IdNameSerializer(allow_null=True)
    stage = serializers.CharField(help_text="当前环节（verify/file/dispatch/handle/check/close），空为无")
    stage_label = serializers.SerializerMethodField()
    stage_deadline = serializers.DateTimeField(allow_null=True)
    light = serializers.SerializerMethodField(help_text="green 正常 / yellow 临期 / red 超期 / paused / none")
    urgent = serializers.BooleanField()
    supervised = serializers.BooleanField()
    counts = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="乐观锁版本号：执行操作时原样提交")
    reporter_phone = serializers.SerializerMethodField(help_text="反映人电话；受理员和管理员以外脱敏（138****5678）")

    def get_status_label(self, case: Case) -> str:
        return _label(Status, case.status)

    def get_channel_label(self, case: Case) -> str:
        return _label(Channel, case.channel)

    def get_stage_label(self, case: Case) -> str:
        return _label(Stage, case.stage)

    @extend_schema_field(serializers.ChoiceField(choices=Light.choices))
    def get_light(self, case: Case) -> str:
        return str(case.light(self.context.get("now")))

    @extend_schema_field(CountsSerializer)
    def get_counts(self, case: Case) -> dict:
        return CountsSerializer(case).data

    def get_reporter_phone(self, case: Case) -> str:
        return case.reporter_phone if self.context.get("show_contact") else case.masked_phone

    def to_representation(self, case: Case) -> dict:
        return self.head(case)

    def generic_representation(self, case: Case) -> dict:
        """DRF's generic output of the declared fields (tests hold the fast paths equal to it)."""
        return serializers.Serializer.to_representation(self, case)

    def head(self, case: Case) -> dict:
        """The list fields, built directly: DRF's generic path deep-copies every field (and the
        nested serializers') for each instance, most of the time of a list page or a report."""
        category, street, community, unit = case.category, case.street, case.community, case.handling_unit
        return {
            "id": case.pk,
            "number": case.number,
            "status": case.status,
            "status_label": _label(Status, case.status),
            "channel": case.channel,
            "channel_label": _label(Channel, case.channel),
            "category": {"id": category.pk, "name": category.name},
            "address": case.address,
            "lon": float(case.lon),
            "lat": float(case.lat),
            "grid": case.grid.code,
            "street": {"code": street.code, "name": street.name},
            "community": {"code": community.code, "name": community.name},
            "handling_unit": {"id": unit.pk, "name": unit.name} if unit is not None else None,
            "stage": case.stage,
            "stage_label": _label(Stage, case.stage),
            "stage_deadline": _datetime(case.stage_deadline),
            "light": self.get_light(case),
            "urgent": case.urgent,
            "supervised": case.supervised,
            "counts": {
                "remind": case.remind_count,
                "rework": case.rework_count,
                "extension": case.extension_count,
                "return": case.return_count,
                "deferral": case.deferral_count,
            },
            "created_at": _datetime(case.created_at),
            "version": case.version,
            "reporter_phone": self.get_reporter_phone(case),
        }


_DATETIME = serializers.DateTimeField()


def _datetime(value):
    return None if value is None else _DATETIME.to_representation(value)


class EventSerializer(serializers.Serializer):
    """One line of a case's timeline."""

    id = serializers.IntegerField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    from_status = serializers.CharField()
    from_status_label = serializers.SerializerMethodField()
    to_status = serializers.CharField()
    to_status_label = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField(help_text="操作人姓名")
    actor_role = serializers.CharField()
    unit = IdNameSerializer(allow_null=True)
    at = serializers.DateTimeField()
    note = serializers.CharField()
    data = serializers.JSONField()

    def get_from_status_label(self, event: CaseEvent) -> str:
        return _label(Status, event.from_status)

    def get_to_status_label(self, event: CaseEvent) -> str:
        return _label(Status, event.to_status)

    def get_actor(self, event: CaseEvent) -> str:
        return str(event.actor) if event.actor is not None else ""


class StageSerializer(serializers.Serializer):
    """One run of a stage clock."""

    stage = serializers.CharField()
    stage_label = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    on_time = serializers.BooleanField(allow_null=True)
    amount = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True, help_text="时限（含延期）")
    time_unit = serializers.CharField()
    time_unit_label = serializers.SerializerMethodField()
    paused = serializers.SerializerMethodField()

    def get_stage_label(self, stage: CaseStage) -> str:
        return _label(Stage, stage.stage)

    def get_time_unit_label(self, stage: CaseStage) -> str:
        return _label(TimeUnit, stage.time_unit)

    def get_paused(self, stage: CaseStage) -> bool:
        return stage.paused_since is not None


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Attachment.Kind.choices)
    kind_label = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    event = serializers.IntegerField(source="event_id", allow_null=True)
    created_at = serializers.DateTimeField()

    def get_kind_label(self, attachment: Attachment) -> str:
        return _label(Attachment.Kind, attachment.kind)

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_url(self, attachment: Attachment) -> str | None:
        return self._absolute(attachment.get_absolute_url()) if attachment.file else None

    def get_thumbnail_url(self, attachment: Attachment) -> str | None:
        return self._absolute(attachment.get_thumbnail_url()) if attachment.thumbnail else None


@extend_schema_serializer(component_name="CaseAvailableAction")
class AvailableActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    label = serializers.CharField()
    requires = serializers.ListField(child=serializers.CharField(), help_text="reason/after_photo/unit/amount/…")

    def to_representation(self, action):
        row = TRANSITIONS[Action(action)]
        return {"action": row.action.value, "label": str(row.action.label), "requires": sorted(row.requires)}


@extend_schema_serializer(component_name="CaseDuplicate")
class DuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    address = serializers.CharField()
    created_at = serializers.DateTimeField()


class CaseDetailSerializer(CaseListSerializer):
    """GET /api/v1/cases/{id}/: the list fields plus history, clocks, files and what the user may do."""

    description = serializers.CharField()
    reporter_name = serializers.CharField()
    resolution_mode = serializers.CharField()
    duplicate_of = serializers.CharField(source="duplicate_of.number", allow_null=True, default=None)
    filed_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    events = EventSerializer(many=True)
    stages = StageSerializer(many=True)
    attachments = AttachmentSerializer(many=True)
    actions = serializers.SerializerMethodField(help_text="当前用户此刻可执行的操作")
    duplicates = serializers.SerializerMethodField(help_text="疑似重复案件（仅可合并的用户）")

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_actions(self, case: Case) -> list:
        return AvailableActionSerializer(self.context.get("actions", []), many=True).data

    @extend_schema_field(DuplicateSerializer(many=True))
    def get_duplicates(self, case: Case) -> list:
        return DuplicateSerializer(self.context.get("duplicates", []), many=True).data

    def to_representation(self, case: Case) -> dict:
        return self.generic_representation(case)


class CaseCreatedSerializer(CaseListSerializer):
    """The 201 answer to POST /api/v1/cases/: the list fields of the new case, the photos sent
    with it and what the reporter may do next. The full record, with duplicate suggestions for
    a user who may merge, is at the Location the answer gives (GET /api/v1/cases/{id}/)."""

    attachments = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(help_text="当前用户此刻可执行的操作")

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, case: Case) -> list:
        return AttachmentSerializer(self.context.get("attachments", []), many=True, context=self.context).data

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_actions(self, case: Case) -> list:
        return AvailableActionSerializer(self.context.get("actions", []), many=True).data

    def to_representation(self, case: Case) -> dict:
        attachments = self.context.get("attachments")
        return {
            **self.head(case),
            "attachments": self.get_attachments(case) if attachments else [],
            "actions": [AvailableActionSerializer().to_representation(a) for a in self.context.get("actions", [])],
        }
