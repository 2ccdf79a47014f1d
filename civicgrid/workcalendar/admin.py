from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.workcalendar.engine import package_years
from civicgrid.workcalendar.models import CalendarDay, WorkSchedule
from civicgrid.workcalendar.selectors import invalidate_calendar
from civicgrid.workcalendar.services import CalendarDaysParseError, calendar_days_import

WEEKDAYS = "一二三四五六日"


class BulkDaysForm(forms.Form):
    text = forms.CharField(
        label=_("安排"),
        widget=forms.Textarea(
            attrs={
                "rows": 16,
                "cols": 70,
                "placeholder": "2027-02-06 至 2027-02-14 放假 春节\n2027-02-15 上班 春节调休",
            }
        ),
        help_text=_(
            "每行一个假期或调休上班日：日期或“开始 至 结束”，然后“放假”或“上班”，"
            "最后是名称（可省略）。全部行无误才会录入。"
        ),
    )


class InvalidatesCalendarAdmin(admin.ModelAdmin):
    """Drop the cached calendar after each change (other processes see it by the version check)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(invalidate_calendar)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(invalidate_calendar)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(invalidate_calendar)


@admin.register(CalendarDay)
class CalendarDayAdmin(InvalidatesCalendarAdmin):
    list_display = ("date", "weekday", "kind", "name", "note", "updated_at")
    list_filter = ("kind", "name")
    search_fields = ("name", "note")
    date_hierarchy = "date"
    fields = ("date", "kind", "name", "note")

    def get_urls(self):
        bulk = path("bulk/", self.admin_site.admin_view(self.bulk_view), name="workcalendar_calendarday_bulk")
        return [bulk, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        years = package_years()
        entered = (
            CalendarDay.objects.annotate(year=ExtractYear("date"))
            .values("year")
            .annotate(n=Count("id"))
            .order_by("year")
        )
        this_year = timezone.localdate().year
        extra_context = {
            **(extra_context or {}),
            "package_first": min(years),
            "package_last": max(years),
            "entered_years": list(entered),
            "missing_years": [
                y for y in (this_year, this_year + 1) if y not in years and not any(e["year"] == y for e in entered)
            ],
        }
        return super().changelist_view(request, extra_context)

    def bulk_view(self, request):
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            return redirect("admin:workcalendar_calendarday_changelist")
        form = BulkDaysForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                count = calendar_days_import(form.cleaned_data["text"])
            except CalendarDaysParseError as exc:
                for problem in exc.problems:
                    form.add_error("text", problem)
            else:
                self.message_user(request, _("已录入 %(count)d 天。") % {"count": count}, messages.SUCCESS)
                return redirect("admin:workcalendar_calendarday_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("按国务院办公厅通知批量录入节假日与调休"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/workcalendar/calendarday/bulk.html", context)

    @admin.display(description=_("星期"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return "星期" + WEEKDAYS[obj.date.weekday()]


@admin.register(WorkSchedule)
class WorkScheduleAdmin(InvalidatesCalendarAdmin):
    list_display = ("name", "season_start", "season_end", "windows", "updated_at")
    fields = ("name", "season_start", "season_end", "windows")
