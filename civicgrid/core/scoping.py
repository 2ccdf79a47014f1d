"""Data scope (数据权限): which part of the county a user may see.

Region codes are hierarchical (county 6 digits, street 9, community 12, each a prefix of the
next), so a region scope is a code prefix. Every queryset's `visible_to(user)` calls
`region_prefix_for(user)`; None means the user is not restricted by region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from civicgrid.core.models import User


class ScopeDenied(Exception):
    """The user's scope is misconfigured: show nothing rather than everything."""


def region_prefix_for(user: User) -> str | None:
    """The region-code prefix the user is limited to, or None for no region limit."""
    if not user.is_authenticated:
        raise ScopeDenied("anonymous")
    if user.is_superuser or user.scope == user.Scope.ALL:
        return None
    if user.scope == user.Scope.REGION:
        if user.scope_region_id is None:
            raise ScopeDenied("region scope without a region")
        return user.scope_region.code
    # Unit scope: a street office sees its street; a county-wide department's own items are
    # filtered by unit in the querysets that have a unit (cases); its region view is the county.
    if user.org_unit_id and user.org_unit.region_id:
        return user.org_unit.region.code
    return None


def unit_for(user: User) -> int | None:
    """The org unit the user is limited to (scope=unit), or None."""
    if user.is_superuser or user.scope != user.Scope.UNIT:
        return None
    return user.org_unit_id


class RegionScopedQuerySet(models.QuerySet):
    """A queryset whose rows lie in a region: `visible_to(user)` is the one scope filter.

    Subclasses say how their rows match a region-code prefix in `in_region(prefix)`.
    """

    def visible_to(self, user: User):
        try:
            prefix = region_prefix_for(user)
        except ScopeDenied:
            return self.none()
        return self if prefix is None else self.in_region(prefix)

    def in_region(self, prefix: str):
        raise NotImplementedError
