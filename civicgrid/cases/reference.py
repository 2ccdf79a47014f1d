"""Reference rows a case write reads every time — its category, the grid with its community and
street, the grid's inspector, the stage time limits — kept in a small process-local cache.

A report is a handful of inserts; without this cache, four more reads (and their query
compilation, most of the cost in Python) would come before them on every request. An entry
lives at most `TTL` seconds; a save or delete of one of these models in this process clears
the cache at once, and other processes see the change within `TTL` (the grid index of
civicgrid.geo.lookup works the same way, with one second). Cached model instances are
shared: read them, never change them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

TTL = 2.0
_MISSING = object()


class ReferenceCache:
    def __init__(self, ttl: float = TTL):
        self.ttl = ttl
        self._items: dict[tuple, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, load: Callable[[], Any]) -> Any:
        hit = self._items.get(key, _MISSING)
        now = time.monotonic()
        if hit is not _MISSING and hit[0] > now:
            return hit[1]
        value = load()
        with self._lock:
            self._items[key] = (now + self.ttl, value)
        return value

    def clear(self, **_signal_kwargs) -> None:
        with self._lock:
            self._items = {}


cache = ReferenceCache()


def active_category(category_id: int):
    from civicgrid.catalog.models import Category

    return cache.get(("category", category_id), lambda: Category.objects.filter(pk=category_id, is_active=True).first())


def grid_with_region(code: str):
    """The unit grid with its community and the community's street loaded, or None."""
    from civicgrid.geo.models import Grid

    return cache.get(("grid", code), lambda: Grid.objects.select_related("community__parent").filter(code=code).first())


def grid_inspector_id(grid_id: int) -> int | None:
    """The inspector of the grid's first responsibility grid (by code) that has one."""
    from civicgrid.geo.models import ResponsibilityGrid

    def load():
        return (
            ResponsibilityGrid.objects.filter(grids=grid_id)
            .exclude(inspector=None)
            .order_by("code")
            .values_list("inspector_id", flat=True)
            .first()
        )

    return cache.get(("inspector", grid_id), load)


def time_limit(category_id: int, stage: str, region_class: str):
    """As catalog.selectors.time_limit_for: the region class's own row, else the all-regions row."""
    from civicgrid.catalog.models import Category
    from civicgrid.catalog.selectors import time_limit_for

    return cache.get(
        ("limit", category_id, stage, region_class),
        lambda: time_limit_for(Category(pk=category_id), stage, region_class),
    )


def connect_signals() -> None:
    """Clear the cache whenever this process changes a row it holds (called from CasesConfig.ready)."""
    from civicgrid.catalog.models import Category, StageTimeLimit
    from civicgrid.geo.models import Grid, Region, ResponsibilityGrid

    for model in (Category, StageTimeLimit, Grid, Region, ResponsibilityGrid):
        post_save.connect(cache.clear, sender=model, dispatch_uid=f"case-reference-save-{model.__name__}")
        post_delete.connect(cache.clear, sender=model, dispatch_uid=f"case-reference-delete-{model.__name__}")
    m2m_changed.connect(cache.clear, sender=ResponsibilityGrid.grids.through, dispatch_uid="case-reference-m2m")
