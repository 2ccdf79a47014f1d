"""Reference rows a case write reads every time — the active categories, the stage time
limits, each grid's inspector — kept as whole-table snapshots in the process.

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


categories = Snapshot(_load_categories)
limits = Snapshot(_load_limits)
inspectors = Snapshot(_load_inspectors)
SNAPSHOTS = (categories, limits, inspectors)


def active_category(category_id: int):
    """The category if it exists and is active, else None."""
    return categories.get().get(category_id)


def time_limit(category_id: int, stage: str, region_class: str):
    """As catalog.selectors.time_limit_for: the region class's own row, else the all-regions row."""
    rows = limits.get()
    return rows.get((category_id, stage, region_class)) or rows.get((category_id, stage, ""))


def grid_inspector_id(grid_id: int) -> int | None:
    return inspectors.get().get(grid_id)


def clear(**_signal_kwargs) -> None:
    for snapshot in SNAPSHOTS:
        snapshot.clear()


def connect_signals() -> None:
    """Clear the snapshots whenever this process changes a row they hold (CasesConfig.ready)."""
    from civicgrid.catalog.models import Category, StageTimeLimit
    from civicgrid.core.models import User
    from civicgrid.geo.models import ResponsibilityGrid

    for model in (Category, StageTimeLimit, ResponsibilityGrid):
        post_save.connect(clear, sender=model, dispatch_uid=f"case-reference-save-{model.__name__}")
        post_delete.connect(clear, sender=model, dispatch_uid=f"case-reference-delete-{model.__name__}")
    # Deleting an inspector empties their grids' inspector column without a signal of its own.
    post_delete.connect(clear, sender=User, dispatch_uid="case-reference-delete-User")
    m2m_changed.connect(clear, sender=ResponsibilityGrid.grids.through, dispatch_uid="case-reference-m2m")
