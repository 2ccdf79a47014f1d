from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from civicgrid.workcalendar.models import CalendarDay, WorkSchedule
from civicgrid.workcalendar.selectors import invalidate_calendar

WEEKDAYS = "一二三四五六日"


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

    @admin.display(description=_("星期"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return "星期" + WEEKDAYS[obj.date.weekday()]


@admin.register(WorkSchedule)
class WorkScheduleAdmin(InvalidatesCalendarAdmin):
    list_display = ("name", "season_start", "season_end", "windows", "updated_at")
    fields = ("name", "season_start", "season_end", "windows")
