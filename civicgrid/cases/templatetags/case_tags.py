"""Small display helpers for the workbench templates: lights, deadlines, durations, labels."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Light
from civicgrid.cases.workflow import Status

register = template.Library()


def _span(delta: timedelta) -> str:
    """A rough human length: minutes under an hour, hours under two days, then days."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 60:
        return _("%(n)d 分钟") % {"n": max(minutes, 1)}
    if minutes < 48 * 60:
        return _("%(n)d 小时") % {"n": minutes // 60}
    return _("%(n)d 天") % {"n": minutes // (24 * 60)}


@register.filter
def light_of(case, now=None) -> str:
    return case.light(now)


@register.filter
def light_label(value: str) -> str:
    try:
        return str(Light(value).label)
    except ValueError:
        return ""


@register.filter
def deadline_text(case, now=None) -> str:
    """剩余 2 小时 / 超期 3 小时 / 暂停计时 / — for the running stage's deadline."""
    if case.stage_paused:
        return _("暂停计时")
    if case.stage_deadline is None:
        return "—"
    delta = case.stage_deadline - (now or timezone.now())
    if delta.total_seconds() >= 0:
        return _("剩余 %(span)s") % {"span": _span(delta)}
    return _("超期 %(span)s") % {"span": _span(delta)}


@register.filter
def duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d 小时 %(m)d 分") % {"h": hours, "m": mins}
    return _("%(m)d 分钟") % {"m": mins}


@register.filter
def status_label(value: str) -> str:
    if not value:
        return ""
    try:
        return str(Status(value).label)
    except ValueError:
        return value


@register.filter
def km(metres: float | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return _("%(m)d 米") % {"m": round(metres)}
    return _("%(km).1f 公里") % {"km": metres / 1000}
