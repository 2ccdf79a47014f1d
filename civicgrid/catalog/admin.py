import io
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.services import audit_export
from civicgrid.catalog.models import PENDING, Category, CategoryCode, RegionClass, Stage, StageTimeLimit
from civicgrid.catalog.services import catalog_confirm_categories
from civicgrid.catalog.transfer import CatalogImportError, catalog_export_xlsx, catalog_export_yaml, catalog_import

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CategoryCodeInline(admin.TabularInline):
    model = CategoryCode
    extra = 0
    max_num = len(CategoryCode.Scheme.choices)
    fields = ("scheme", "code", "major_code", "major_name", "name")
    readonly_fields = ("major_code",)


class StageTimeLimitInline(admin.TabularInline):
    model = StageTimeLimit
    extra = 0
    fields = ("stage", "region_class", "amount", "unit", "confirmed", "source", "note")
    formfield_overrides = {
        # A one-line note keeps the inline table readable.
        StageTimeLimit._meta.get_field("note").__class__: {"widget": forms.TextInput(attrs={"size": 40})},
    }


class SchemeFilter(admin.SimpleListFilter):
    title = _("编码体系")
    parameter_name = "scheme"

    def lookups(self, request, model_admin):
        choices = [(value, label) for value, label in CategoryCode.Scheme.choices]
        return [*choices, ("none", _("无编码"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(codes__isnull=True)
        if self.value() in CategoryCode.Scheme.values:
            return queryset.filter(Exists(CategoryCode.objects.filter(category=OuterRef("pk"), scheme=self.value())))
        return queryset


def _unconfirmed_limits():
    return StageTimeLimit.objects.filter(category=OuterRef("pk"), confirmed=False)


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("确认状态")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("yes", _("已全部确认")), ("no", _("有待本地确认项"))]

    def queryset(self, request, queryset):
        confirmed = queryset.filter(filing_condition_confirmed=True, closing_condition_confirmed=True).exclude(
            Exists(_unconfirmed_limits())
        )
        if self.value() == "yes":
            return confirmed
        if self.value() == "no":
            return queryset.exclude(pk__in=confirmed.values("pk"))
        return queryset


class HandleLimitFilter(admin.SimpleListFilter):
    title = _("处置时限")
    parameter_name = "has_limit"

    def lookups(self, request, model_admin):
        return [("yes", _("有处置时限")), ("no", _("无处置时限"))]

    def queryset(self, request, queryset):
        has = Exists(StageTimeLimit.objects.filter(category=OuterRef("pk"), stage=Stage.HANDLE))
        if self.value() == "yes":
            return queryset.filter(has)
        if self.value() == "no":
            return queryset.exclude(has)
        return queryset


class ImportForm(forms.Form):
    file = forms.FileField(label=_("文件"), help_text=_("YAML（.yaml/.yml）或 Excel（.xlsx），格式同导出文件。"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in {".yaml", ".yml", ".xlsx"}:
            raise forms.ValidationError(_("只支持 .yaml/.yml 或 .xlsx 文件。"))
        return upload


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "codes_column",
        "name",
        "major_name",
        "handle_limit_column",
        "default_handling_unit",
        "filing_condition_confirmed",
        "closing_condition_confirmed",
        "is_active",
        "is_public",
        "publicly_listed",
    )
    list_display_links = ("name",)
    list_editable = ("publicly_listed",)
    list_filter = (
        "kind",
        SchemeFilter,
        ConfirmedFilter,
        HandleLimitFilter,
        "is_active",
        "is_public",
        "publicly_listed",
    )
    search_fields = ("name", "codes__code", "codes__name", "key")
    list_select_related = ("default_handling_unit",)
    list_per_page = 100
    autocomplete_fields = ("default_handling_unit",)
    readonly_fields = ("stage_limits_summary",)
    inlines = [CategoryCodeInline, StageTimeLimitInline]
    actions = ["confirm_as_local_standard", "export_selected_yaml", "export_selected_xlsx"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "key",
                    "kind",
                    "name",
                    "major_name",
                    "sort_order",
                    "is_active",
                    "is_public",
                    "publicly_listed",
                )
            },
        ),
        (
            _("立案结案条件"),
            {
                "fields": (
                    ("filing_condition", "filing_condition_confirmed", "filing_condition_source"),
                    ("closing_condition", "closing_condition_confirmed", "closing_condition_source"),
                ),
                "description": _("来源为 PH 或未勾选“已确认”的条件在业务界面显示为“待本地确认”。"),
            },
        ),
        (_("处置单位"), {"fields": ("responsible_unit_type", "responsible_unit_source", "default_handling_unit")}),
        (_("各环节时限"), {"fields": ("stage_limits_summary",)}),
        (_("备注"), {"fields": ("note",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("codes", "time_limits")

    @admin.display(description=_("编码"))
    def codes_column(self, obj: Category) -> str:
        codes = sorted(obj.codes.all(), key=lambda c: c.scheme != CategoryCode.Scheme.GBT47678_5)
        if not codes:
            return "—"
        labels = {CategoryCode.Scheme.GBT47678_5: "国标", CategoryCode.Scheme.LEGACY: "旧标"}
        return format_html_join(" ", "{} {}", ((labels[c.scheme], c.code) for c in codes))

    @admin.display(description=_("处置时限"))
    def handle_limit_column(self, obj: Category) -> str:
        limit = obj.limits_by_stage().get(Stage.HANDLE)
        return limit.display if limit else PENDING

    @admin.display(description=_("各环节时限"))
    def stage_limits_summary(self, obj: Category) -> str:
        if obj.pk is None:
            return PENDING
        lines = []
        for region_class in [RegionClass.ALL, *sorted({r.region_class for r in obj.time_limits.all()} - {""})]:
            limits = obj.limits_by_stage(region_class)
            label = RegionClass(region_class).label
            for stage, limit in limits.items():
                text = limit.display if limit else PENDING
                lines.append((label, Stage(stage).label, text))
        return format_html_join("", "<div>{}：{} — {}</div>", lines)

    @admin.action(description=_("确认为本地标准"), permissions=["change"])
    def confirm_as_local_standard(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        count = catalog_confirm_categories(categories=queryset)
        self.message_user(request, _("已将 %(count)d 个分类的条件和时限确认为本地标准。") % {"count": count})

    @admin.action(description=_("导出所选分类（YAML）"), permissions=["view"])
    def export_selected_yaml(self, request: HttpRequest, queryset: QuerySet[Category]) -> HttpResponse:
        audit_export(actor=request.user, what="所选部件事件分类（YAML）", request=request)
        return self._yaml_response(queryset)

    @admin.action(description=_("导出所选分类（Excel）"), permissions=["view"])
    def export_selected_xlsx(self, request: HttpRequest, queryset: QuerySet[Category]) -> HttpResponse:
        audit_export(actor=request.user, what="所选部件事件分类（Excel）", request=request)
        return self._xlsx_response(queryset)

    # --- export buttons and the import page ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/yaml/", wrap(self.export_yaml_view), name="catalog_category_export_yaml"),
            path("export/xlsx/", wrap(self.export_xlsx_view), name="catalog_category_export_xlsx"),
            path("import/", wrap(self.import_view), name="catalog_category_import"),
            *super().get_urls(),
        ]

    def _yaml_response(self, queryset=None) -> HttpResponse:
        buffer = io.StringIO()
        catalog_export_yaml(buffer, queryset)
        response = HttpResponse(buffer.getvalue(), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="categories.yaml"'
        return response

    def _xlsx_response(self, queryset=None) -> HttpResponse:
        buffer = io.BytesIO()
        catalog_export_xlsx(buffer, queryset)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
        response["Content-Disposition"] = 'attachment; filename="categories.xlsx"'
        return response

    def export_yaml_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        audit_export(actor=request.user, what="部件事件分类（YAML）", request=request)
        return self._yaml_response()

    def export_xlsx_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        audit_export(actor=request.user, what="部件事件分类（Excel）", request=request)
        return self._xlsx_response()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        issues = []
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                summary = catalog_import(stream=upload, file_format=Path(upload.name).suffix.lower().lstrip("."))
            except CatalogImportError as exc:
                issues = [str(issue) for issue in exc.issues]
            else:
                self.message_user(request, str(summary), messages.SUCCESS)
                return redirect(reverse("admin:catalog_category_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("导入部件事件分类"),
            "opts": self.model._meta,
            "form": form,
            "issues": issues,
        }
        return TemplateResponse(request, "admin/catalog/category/import.html", context)
