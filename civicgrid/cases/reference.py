"""Reference rows a case write reads every time — the active categories, the stage time
limits, each grid's inspector — kept as whole-table snapshots in the process; and the names a
case list shows (categories, units, the filter bar's choices), so a queue page needs no join.

A report is a handful of inserts; without these snapshots, three more reads (and their query
compilation, most of the cost in Python) would come before them on every request. The grid,
community and street come from the grid index of civicgrid.geo.lookup, cached the same way.
A snapshot is reloaded when it is older than `TTL` seconds — one query per table per process
every two seconds, whatever the load — and at once when this process saves or deletes one of
these rows; other processes see a change within `TTL`. Cached model instances are shared:
read them, never change them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

TTL = 2.0
# What pages only show (no write depends on them; the dispatch form's units are checked again on
# submit): a change made in another process may show for up to a minute.
DISPLAY_TTL = 60.0


class Snapshot:
    """The result of `load()`, reloaded when older than `ttl` seconds or after `clear()`."""

    def __init__(self, load: Callable[[], Any], ttl: float = TTL):
        self.load, self.ttl = load, ttl
        self._value: Any = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self) -> Any:
        if time.monotonic() < self._expires:
            return self._value
        with self._lock:
            if time.monotonic() >= self._expires:
                started = time.monotonic()
                self._value = self.load()
                self._expires = started + self.ttl
            return self._value

    def clear(self, **_signal_kwargs) -> None:
        self._expires = 0.0


def _load_categories() -> dict:
    from civicgrid.catalog.models import Category

    return {c.pk: c for c in Category.objects.filter(is_active=True)}


def _load_limits() -> dict:
    from civicgrid.catalog.models import StageTimeLimit

    return {(row.category_id, row.stage, row.region_class): row for row in StageTimeLimit.objects.all()}


def _load_inspectors() -> dict:
    """Grid id → the inspector of its first responsibility grid (by code) that has one."""
    from civicgrid.geo.models import ResponsibilityGrid

    rows = (
        ResponsibilityGrid.grids.through.objects.exclude(responsibilitygrid__inspector=None)
        .order_by("-responsibilitygrid__code")
        .values_list("grid_id", "responsibilitygrid__inspector_id")
    )
    return dict(rows)  # ordered by code descending: the smallest code is written last and wins


def _load_category_names() -> dict[int, str]:
    """Every category's name, inactive ones too: old cases keep theirs."""
    from civicgrid.catalog.models import Category

    return dict(Category.objects.values_list("pk", "name"))


def _load_unit_names() -> dict[int, str]:
    from civicgrid.core.models import OrgUnit

    return dict(OrgUnit.objects.values_list("pk", "name"))


def _load_dispatch_units() -> list[tuple[int, str, str]]:
    """(pk, name, region code) of the units a case can be sent to, by code: the dispatch form's
    choices."""
    from django.db.models import Value
    from django.db.models.functions import Coalesce

    from civicgrid.cases.forms import dispatch_units

    # With the region's code: the case page offers the units of the case's county (or of none).
    return list(dispatch_units().order_by("code").values_list("pk", "name", Coalesce("region__code", Value(""))))


class FilterCategories:
    """The filter bar's category choices, and their <option> markup per language (filled in by
    civicgrid.cases.forms.FilterForm: the 258 options took ~5 ms to draw on every queue page)."""

    def __init__(self, choices: list[tuple[str, str]]):
        self.choices = choices
        self.html: dict[str, str] = {}


def _load_filter_categories() -> FilterCategories:
    from civicgrid.catalog.models import Category

    rows = Category.objects.filter(is_active=True).order_by("sort_order", "name").values_list("pk", "name")
    return FilterCategories([(str(pk), name) for pk, name in rows])


categories = Snapshot(_load_categories)
limits = Snapshot(_load_limits)
inspectors = Snapshot(_load_inspectors)
category_names = Snapshot(_load_category_names, DISPLAY_TTL)
unit_names = Snapshot(_load_unit_names, DISPLAY_TTL)
filter_categories = Snapshot(_load_filter_categories, DISPLAY_TTL)
dispatch_units = Snapshot(_load_dispatch_units, DISPLAY_TTL)
SNAPSHOTS = (categories, limits, inspectors, category_names, unit_names, filter_categories, dispatch_units)


def active_category(category_id: int):
    """The category if it exists and is active, else None."""
    return categories.get().get(category_id)


def time_limit(category_id: int, stage: str, region_class: str):
    """As catalog.selectors.time_limit_for: the region class's own row, else the all-regions row."""
    rows = limits.get()
    return rows.get((category_id, stage, region_class)) or rows.get((category_id, stage, ""))


def grid_inspector_id(grid_id: int) -> int | None:
    return inspectors.get().get(grid_id)


def _name(snapshot: Snapshot, pk: int | None) -> str:
    if pk is None:
        return ""
    name = snapshot.get().get(pk)
    if name is None:  # a row added by another process since the snapshot was taken
        snapshot.clear()
        name = snapshot.get().get(pk, "")
    return name


def category_name(pk: int | None) -> str:
    return _name(category_names, pk)


def unit_name(pk: int | None) -> str:
    return _name(unit_names, pk)


def clear(**_signal_kwargs) -> None:
    for snapshot in SNAPSHOTS:
        snapshot.clear()


def connect_signals() -> None:
    """Clear the snapshots whenever this process changes a row they hold (CasesConfig.ready)."""
    from civicgrid.catalog.models import Category, StageTimeLimit
    from civicgrid.core.models import OrgUnit, User
    from civicgrid.geo.models import ResponsibilityGrid

    for model in (Category, StageTimeLimit, ResponsibilityGrid, OrgUnit):
        post_save.connect(clear, sender=model, dispatch_uid=f"case-reference-save-{model.__name__}")
        post_delete.connect(clear, sender=model, dispatch_uid=f"case-reference-delete-{model.__name__}")
    # Deleting an inspector empties their grids' inspector column without a signal of its own.
    post_delete.connect(clear, sender=User, dispatch_uid="case-reference-delete-User")
    m2m_changed.connect(clear, sender=ResponsibilityGrid.grids.through, dispatch_uid="case-reference-m2m")
