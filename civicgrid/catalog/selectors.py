"""Reads of the catalogue: a stage's time limit, a category by code."""

from civicgrid.catalog.models import Category, CategoryCode, RegionClass, StageTimeLimit


def time_limit_for(
    category: Category, stage: str, region_class: str = "", *, confirmed_only: bool = False
) -> StageTimeLimit | None:
    """The limit for a category's stage in a region class: the class's own row, else the
    all-regions ('') row, else None.

    Unconfirmed rows are returned too (their ``confirmed`` says so) unless ``confirmed_only``:
    the SLA code decides whether a reference value may drive a deadline.
    """
    rows = StageTimeLimit.objects.filter(category=category, stage=stage, region_class__in={region_class, ""})
    if confirmed_only:
        rows = rows.filter(confirmed=True)
    by_class = {row.region_class: row for row in rows}
    return by_class.get(region_class) or by_class.get(RegionClass.ALL)


def category_by_code(*, scheme: str, code: str, kind: str | None = None) -> Category | None:
    """The category holding a code.

    GB/T 47678.5 codes are unique in themselves; a 管理事项 of classes 01–05 ("供水井盖异常",
    01001) has the number of its 管理部件 and resolves to that component category. Legacy
    codes repeat across kinds, so ``kind`` is needed to tell 0101 部件 from 0101 事件; without
    it an ambiguous legacy code returns None.
    """
    codes = CategoryCode.objects.filter(scheme=scheme, code=code).select_related("category")
    if scheme == CategoryCode.Scheme.LEGACY and kind:
        codes = codes.filter(kind=kind)
    found = list(codes[:2])
    return found[0].category if len(found) == 1 else None
