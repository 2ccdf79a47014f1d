"""The working calendar: corrected days and working-time schedules.

The national holidays and make-up working days come from the `chinese_calendar` package; a
`CalendarDay` row overrides the package for its date (the State Council publishes next year's
schedule each November, before a package release knows it). `WorkSchedule` rows give the daily
working windows per season. The engine (civicgrid.workcalendar.engine) turns both into
deadlines; see docs/calendar.md for the rules.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.workcalendar.engine import parse_clock, parse_month_day, season_month_days


def parse_windows(value) -> list[tuple[int, int]]:
    """Validate a list of ["HH:MM", "HH:MM"] pairs; return (start, end) minutes, sorted and disjoint.

    Raises ValidationError with a Chinese message.
    """
    if not isinstance(value, list) or not value:
        raise ValidationError(_('工作时段必须是非空列表，例如 [["08:00", "12:00"], ["14:30", "17:30"]]。'))
    windows = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValidationError(_('每个工作时段必须是 ["开始", "结束"] 两个时间。'))
        try:
            start, end = parse_clock(pair[0]), parse_clock(pair[1])
        except ValueError:
            raise ValidationError(_("时间必须写成 HH:MM（00:00–24:00），例如 08:00。")) from None
        if start >= end:
            raise ValidationError(_("工作时段的结束时间必须晚于开始时间（不支持跨午夜的时段）。"))
        windows.append((start, end))
    windows.sort()
    for (_s1, e1), (s2, _e2) in zip(windows, windows[1:], strict=False):
        if s2 < e1:
            raise ValidationError(_("工作时段不能相互重叠。"))
    return windows


class CalendarDay(models.Model):
    """A day an administrator has entered or corrected; it overrides the chinese_calendar package.

    Holding at least one row of a year marks that year as entered: the engine then treats the
    year as complete (weekends plus these rows) even when the package does not know it.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("休息日/节假日")
        WORKDAY = "workday", _("调休上班日")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("例如：春节、国庆节"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    # Part of the cache version (see civicgrid.workcalendar.selectors.get_calendar).
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = _("日历日（节假日与调休）")
        ordering = ["date"]

    def __str__(self) -> str:
        label = self.name or self.get_kind_display()
        return f"{self.date.isoformat()} {label}"


class WorkSchedule(models.Model):
    """Daily working windows for a season, e.g. summer 05-01..09-30 and winter 10-01..04-30.

    A season runs from `season_start` to `season_end` inclusive and may wrap the year end
    (10-01..04-30). A day no schedule covers uses the default 08:00–12:00 and 14:30–17:30.
    """

    name = models.CharField(_("名称"), max_length=50, help_text=_("例如：夏季作息、冬季作息"))
    season_start = models.CharField(_("起始月日"), max_length=5, help_text=_("MM-DD，例如 05-01"))
    season_end = models.CharField(_("结束月日"), max_length=5, help_text=_("MM-DD，含当天，可跨年，例如 04-30"))
    windows = models.JSONField(
        _("工作时段"),
        help_text=_('时段列表，例如 [["08:00", "12:00"], ["14:30", "17:30"]]'),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("作息时间")
        verbose_name_plural = _("作息时间")
        ordering = ["season_start", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.season_start}–{self.season_end}）"

    def month_days(self) -> frozenset[tuple[int, int]]:
        """Every (month, day) of the season, 02-29 included."""
        return season_month_days(parse_month_day(self.season_start), parse_month_day(self.season_end))

    def clean(self) -> None:
        errors = {}
        for field in ("season_start", "season_end"):
            try:
                parse_month_day(getattr(self, field))
            except ValueError:
                errors[field] = _("请填写 MM-DD 格式的有效月日，例如 05-01。")
        try:
            self.windows = [
                [f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"] for s, e in parse_windows(self.windows)
            ]
        except ValidationError as exc:
            errors["windows"] = exc.messages
        if errors:
            raise ValidationError(errors)
        mine = self.month_days()
        for other in WorkSchedule.objects.exclude(pk=self.pk):
            if mine & other.month_days():
                raise ValidationError(
                    {"season_end": _("季节与“%(name)s”重叠，每一天只能属于一个作息时间。") % {"name": other.name}}
                )
