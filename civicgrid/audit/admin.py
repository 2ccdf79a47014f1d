"""The audit log in the admin: read-only, for superusers only."""

import json

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.models import AuditEntry

# Beyond this many ids a many-to-many value is shown as ids, not names.
RESOLVE_LIMIT = 200


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_display", "kind", "object_display", "action", "ip")
    list_filter = ("kind", "action", ("content_type", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "at"
    search_fields = ("actor_name", "object_repr", "ip")
    # The log grows without bound: no COUNT(*) over all of it on every page.
    show_full_result_count = False
    list_per_page = 50
    actions = None
    fieldsets = (
        (None, {"fields": ("at", "kind", "actor_display", "object_display", "action", "note")}),
        (_("变更内容"), {"fields": ("changes_table",)}),
        (_("来源"), {"fields": ("ip", "user_agent", "request_id")}),
    )
    readonly_fields = (
        "at",
        "kind",
        "actor_display",
        "object_display",
        "action",
        "note",
        "changes_table",
        "ip",
        "user_agent",
        "request_id",
    )

    # Only superusers see the log; nobody adds, edits or deletes entries (not even superusers).

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("操作人"), ordering="actor_name")
    def actor_display(self, entry):
        return entry.actor_name or "—"

    @admin.display(description=_("对象"))
    def object_display(self, entry):
        if entry.content_type_id is None:
            return entry.object_repr or "—"
        content_type = ContentType.objects.get_for_id(entry.content_type_id)
        return f"{content_type.name}：{entry.object_repr}"

    @admin.display(description=_("变更内容"))
    def changes_table(self, entry):
        if not entry.changes:
            return "—"
        if entry.action == AuditEntry.Action.BULK:
            return self._bulk_table(entry.changes)
        model = None
        if entry.content_type_id is not None:
            model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
        rows = []
        for name, value in entry.changes.items():
            if entry.action == AuditEntry.Action.UPDATE and isinstance(value, list) and len(value) == 2:
                old, new = value
            elif entry.action == AuditEntry.Action.DELETE:
                old, new = value, None
            else:
                old, new = None, value
            rows.append((_field_label(model, name), _shown(model, name, old), _shown(model, name, new)))
        return format_html(
            '<table class="audit-changes"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("字段"),
            _("原值"),
            _("新值"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def _bulk_table(self, counts):
        labels = {"create": _("新增"), "update": _("修改"), "delete": _("删除")}
        rows = []
        for model_label, per_action in counts.items():
            try:
                name = apps.get_model(model_label)._meta.verbose_name
            except (LookupError, ValueError):
                name = model_label
            text = "，".join(f"{labels.get(a, a)} {n}" for a, n in per_action.items())
            rows.append((name, text))
        return format_html(
            '<table class="audit-changes"><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
            _("数据"),
            _("行数"),
            format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows),
        )


def _field_label(model, name: str) -> str:
    if model is not None:
        try:
            return f"{model._meta.get_field(name).verbose_name}（{name}）"
        except FieldDoesNotExist:
            pass
    return name


def _shown(model, name: str, value) -> str:
    """A logged value as text; ids of related objects are shown with the objects' names while they exist."""
    if value is None:
        return "—"
    related = None
    if model is not None:
        try:
            f = model._meta.get_field(name)
            related = f.related_model if f.is_relation else None
        except FieldDoesNotExist:
            pass
    if related is not None:
        ids = value if isinstance(value, list) else [value]
        if not ids:
            return "—"
        if len(ids) <= RESOLVE_LIMIT:
            try:
                found = related._base_manager.in_bulk(ids)
            except (TypeError, ValueError):
                found = {}
            names = [f"{found[i]}" if i in found else f"#{i}" for i in ids]
            return "、".join(names) if isinstance(value, list) else names[0]
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
