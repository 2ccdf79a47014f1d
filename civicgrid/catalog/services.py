"""Writes to the catalogue: load the shipped reference, assign default units, confirm.

The reference loader merges two data files (see docs/catalog.md):

* ``data/categories_legacy.yaml`` — 105 GB/T 30428.2-style items with conditions, a typical
  responsible-unit type and, for 23 of them, a handling limit one city published;
* ``data/gbt47678_5.yaml`` — the GB/T 47678.5-2026 directory, 153 管理部件 and 250 管理事项.
"""

import re
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from civicgrid.catalog.models import Category, CategoryCode, Kind, RegionClass, Stage, StageTimeLimit, TimeUnit
from civicgrid.catalog.yamlio import load_yaml
from civicgrid.core.models import OrgUnit

DATA_DIR = Path(__file__).resolve().parent / "data"
PLACEHOLDER = "PH"

# When two legacy lists give the same 4-digit event code different meanings, the code goes to
# the item from the list closest to GB/T 30428.2 (Beijing Chaoyang's 城管通 list, S42), then the
# mini-program ids (S35), then the other local schemes. The loser keeps its code in the note.
LEGACY_LIST_RANK = {"S42": 0, "S35": 1, "S48": 2, "S09": 3}

# Reference cities that are named; "unidentified district" (S09) is not a city, so its
# limits load unconfirmed.
UNNAMED_CITIES = {"unidentified district"}
CITY_LABELS = {"unidentified district": "未具名区县"}

# Field groups the loader owns together: if an admin changed any field of a group, the group
# is theirs and a reload leaves it alone.
CATEGORY_GROUPS = {
    "name": ("name",),
    "major_name": ("major_name",),
    "filing": ("filing_condition", "filing_condition_confirmed", "filing_condition_source"),
    "closing": ("closing_condition", "closing_condition_confirmed", "closing_condition_source"),
    "unit_type": ("responsible_unit_type", "responsible_unit_source"),
    "note": ("note",),
    "sort_order": ("sort_order",),
}
LIMIT_FIELDS = ("amount", "unit", "confirmed", "source", "note")


@dataclass
class LoadSummary:
    """What one run of the reference loader changed."""

    categories_created: int = 0
    categories_updated: int = 0
    codes_created: int = 0
    limits_created: int = 0
    limits_updated: int = 0
    kept_local: int = 0  # field groups or limits left alone because they were changed here

    @property
    def changed(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "kept_local")

    def __str__(self) -> str:
        return (
            f"新建分类 {self.categories_created} 个，更新分类 {self.categories_updated} 个，"
            f"新增编码 {self.codes_created} 个，新增时限 {self.limits_created} 条，更新时限 {self.limits_updated} 条，"
            f"保留本地修改 {self.kept_local} 处。"
        )


# --- building the merged reference --------------------------------------------------------


def _unit_of(limit: dict) -> str:
    unit, clock = limit.get("unit"), limit.get("clock", "working")
    if unit == "hours":
        return TimeUnit.NATURAL_HOURS if clock == "natural" else TimeUnit.WORKING_HOURS
    if unit in TimeUnit.values:
        return unit
    raise ValueError(f"unknown time-limit unit in the reference data: {unit!r}")


def _limit_label(limit: dict) -> str:
    city = limit.get("city") or ""
    return f"{CITY_LABELS.get(city, city)} {limit.get('source', '')}".strip()


def _amount_text(value: Any, unit: str) -> str:
    return f"{value} {TimeUnit(unit).label}"


def _reference_limits(item: dict) -> list[dict]:
    """The item's limits as StageTimeLimit values.

    One row per (stage, region class): the first limit the reference lists wins (a named
    city's comes first), the others are kept in its note.
    """
    rows: dict[tuple[str, str], dict] = {}
    for limit in item.get("time_limits") or []:
        stage = limit.get("stage", Stage.HANDLE)
        region_class = limit.get("region_class", RegionClass.ALL)
        unit = _unit_of(limit)
        note = limit.get("note", "")
        row = rows.get((stage, region_class))
        if row is None:
            rows[(stage, region_class)] = {
                "stage": stage,
                "region_class": region_class,
                "amount": Decimal(str(limit["value"])),
                "unit": unit,
                "confirmed": bool(limit.get("city")) and limit.get("city") not in UNNAMED_CITIES,
                "source": _limit_label(limit) or PLACEHOLDER,
                "note": note,
            }
        else:
            extra = f"另有参考时限：{_amount_text(limit['value'], unit)}（{_limit_label(limit)}"
            extra += f"，{note}）" if note else "）"
            row["note"] = f"{row['note']}\n{extra}".strip()
    return list(rows.values())


def _condition(item: dict, field: str, source_field: str) -> dict:
    text = (item.get(field) or "").strip()
    source = item.get(source_field) or PLACEHOLDER
    return {field: text, f"{field}_confirmed": bool(text) and source != PLACEHOLDER, f"{field}_source": source}


def reference_entries(data_dir: Path = DATA_DIR) -> list[dict]:
    """The merged reference catalogue: one dict per category, in display order."""
    with open(data_dir / "categories_legacy.yaml", encoding="utf-8") as fh:
        legacy = load_yaml(fh)
    with open(data_dir / "gbt47678_5.yaml", encoding="utf-8") as fh:
        gbt = load_yaml(fh)
    components = {c["code"]: c for c in gbt["components"]}
    matters = {m["code"]: m for m in gbt["matters"]}

    # Which item keeps each contested legacy (kind, code).
    owner: dict[tuple[str, str], dict] = {}
    for item in legacy["items"]:
        if item["minor_code"]:
            slot = (item["kind"], item["minor_code"])
            current = owner.get(slot)
            if current is None or LEGACY_LIST_RANK.get(item["code_scheme"], 9) < LEGACY_LIST_RANK.get(
                current["code_scheme"], 9
            ):
                owner[slot] = item

    entries, used_gbt = [], set()
    for item in legacy["items"]:
        kind, gbt_code = item["kind"], item["gbt47678_5_code"]
        directory = components if kind == Kind.COMPONENT else matters
        gbt_entry = directory.get(gbt_code) if gbt_code else None
        if gbt_code and gbt_entry is None:
            raise ValueError(f"legacy item {item['minor_name']} links to unknown GB/T code {gbt_code}")
        codes, notes = [], []
        key = f"gbt:{gbt_code}" if gbt_entry else f"legacy:{kind}:{item['code_scheme']}:{item['minor_code']}"
        if gbt_entry:
            used_gbt.add((kind, gbt_code))
            codes.append(_gbt_code(gbt_entry))
        if item["minor_code"]:
            if owner[(kind, item["minor_code"])] is item:
                codes.append(
                    {
                        "scheme": CategoryCode.Scheme.LEGACY,
                        "code": item["minor_code"],
                        "major_name": item["major_name"],
                        "name": item["minor_name"],
                    }
                )
            else:
                winner = owner[(kind, item["minor_code"])]
                notes.append(
                    f"参考清单（{item['code_scheme']}）的旧标编码 {item['minor_code']} 与“{winner['minor_name']}”"
                    f"（{winner['code_scheme']}）冲突，未作为编码导入；请按本地手册编码。"
                )
        if item.get("note"):
            notes.append(item["note"])
        entries.append(
            {
                "key": key,
                "kind": kind,
                # The current national standard's name and class where it has the item.
                "name": gbt_entry["name"] if gbt_entry else item["minor_name"],
                "major_name": gbt_entry["class"] if gbt_entry else item["major_name"],
                **_condition(item, "filing_condition", "filing_condition_source"),
                **_condition(item, "closing_condition", "closing_condition_source"),
                "responsible_unit_type": item.get("responsible_unit_type") or "",
                "responsible_unit_source": item.get("responsible_unit_source") or PLACEHOLDER,
                "note": "\n".join(notes),
                "codes": codes,
                "limits": _reference_limits(item),
                "_order": gbt_code or f"99{item['minor_code'] or ''}",
            }
        )

    for kind, directory in ((Kind.COMPONENT, components), (Kind.EVENT, matters)):
        for code, entry in directory.items():
            if (kind, code) in used_gbt:
                continue
            # 管理事项 of classes 01–05 are "<component>异常": the same number as the 管理部件,
            # so the component's category already covers them (category_by_code resolves them).
            if kind == Kind.EVENT and code in components:
                continue
            entries.append(
                {
                    "key": f"gbt:{code}",
                    "kind": kind,
                    "name": entry["name"],
                    "major_name": entry["class"],
                    **_condition({}, "filing_condition", "filing_condition_source"),
                    **_condition({}, "closing_condition", "closing_condition_source"),
                    "responsible_unit_type": "",
                    "responsible_unit_source": PLACEHOLDER,
                    "note": "",
                    "codes": [_gbt_code(entry)],
                    "limits": [],
                    "_order": code,
                }
            )

    for kind in Kind.values:
        ordered = sorted((e for e in entries if e["kind"] == kind), key=lambda e: e["_order"])
        for position, entry in enumerate(ordered, start=1):
            entry["sort_order"] = position * 10
    for entry in entries:
        del entry["_order"]
    return entries


def _gbt_code(entry: dict) -> dict:
    return {
        "scheme": CategoryCode.Scheme.GBT47678_5,
        "code": entry["code"],
        "major_name": entry["class"],
        "name": entry["name"],
    }


# --- loading -------------------------------------------------------------------------------


def _snap(value: Any) -> Any:
    """A value as stored in a reference_values snapshot (JSON-safe, comparable)."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    return value


@transaction.atomic
def catalog_load_reference(*, data_dir: Path = DATA_DIR) -> LoadSummary:
    """Create or refresh the categories, codes and time limits from the shipped data files.

    Idempotent: a second call changes nothing. A value the loader wrote earlier is refreshed
    only while nobody has changed it here; values an admin or an import has edited or
    confirmed, and codes or limits an admin deleted, stay as they are.
    """
    from civicgrid.audit.services import audit_suppressed

    with audit_suppressed("部件事件分类参考数据"):
        return _load_reference(data_dir)


def _load_reference(data_dir: Path) -> LoadSummary:
    summary = LoadSummary()
    existing = {c.key: c for c in Category.objects.prefetch_related("codes", "time_limits")}
    taken = {(c.scheme, c.kind, c.code) for c in CategoryCode.objects.all()}
    taken_gbt = {code for scheme, _kind, code in taken if scheme == CategoryCode.Scheme.GBT47678_5}

    for entry in reference_entries(data_dir):
        values = {f: entry[f] for group in CATEGORY_GROUPS.values() for f in group}
        category = existing.get(entry["key"])
        if category is None:
            category = Category.objects.create(
                key=entry["key"],
                kind=entry["kind"],
                reference_values={f: _snap(v) for f, v in values.items()},
                **values,
            )
            summary.categories_created += 1
            loaded_codes, loaded_limits = set(), set()
            own_codes, own_limits = {}, {}
        else:
            snapshot = category.reference_values
            changed = []
            for group in CATEGORY_GROUPS.values():
                current = {f: _snap(getattr(category, f)) for f in group}
                new = {f: _snap(values[f]) for f in group}
                if current == new:
                    continue
                if all(current[f] == snapshot.get(f) for f in group):
                    for f in group:
                        setattr(category, f, values[f])
                        snapshot[f] = new[f]
                    changed.extend(group)
                elif any(new[f] != snapshot.get(f) for f in group):
                    summary.kept_local += 1
            if changed:
                summary.categories_updated += 1
                category.save(update_fields=[*changed, "reference_values"])
            loaded_codes = set(category.reference_values.get("codes", []))
            loaded_limits = set(category.reference_values.get("limits", []))
            own_codes = {c.scheme: c for c in category.codes.all()}
            own_limits = {(r.stage, r.region_class): r for r in category.time_limits.all()}

        for code in entry["codes"]:
            scheme = code["scheme"]
            slot = (scheme, category.kind, code["code"])
            if scheme in own_codes or scheme in loaded_codes:
                continue  # the category has its own code here, or an admin removed ours
            if slot in taken or (scheme == CategoryCode.Scheme.GBT47678_5 and code["code"] in taken_gbt):
                summary.kept_local += 1
                continue
            CategoryCode.objects.create(category=category, **code)
            taken.add(slot)
            if scheme == CategoryCode.Scheme.GBT47678_5:
                taken_gbt.add(code["code"])
            loaded_codes.add(scheme)
            summary.codes_created += 1

        for limit in entry["limits"]:
            slot = (limit["stage"], limit["region_class"])
            slot_key = f"{limit['stage']}:{limit['region_class']}"
            new = {f: _snap(limit[f]) for f in LIMIT_FIELDS}
            row = own_limits.get(slot)
            if row is None:
                if slot_key in loaded_limits:
                    summary.kept_local += 1  # deleted here on purpose
                    continue
                StageTimeLimit.objects.create(category=category, reference_values=new, **limit)
                loaded_limits.add(slot_key)
                summary.limits_created += 1
                continue
            current = {f: _snap(getattr(row, f)) for f in LIMIT_FIELDS}
            if current == new:
                continue
            if current == row.reference_values:
                for f in LIMIT_FIELDS:
                    setattr(row, f, limit[f])
                row.reference_values = new
                row.save(update_fields=[*LIMIT_FIELDS, "reference_values"])
                summary.limits_updated += 1
            elif new != row.reference_values:
                summary.kept_local += 1

        bookkeeping = {"codes": sorted(loaded_codes), "limits": sorted(loaded_limits)}
        if any(category.reference_values.get(k) != v for k, v in bookkeeping.items()):
            category.reference_values.update(bookkeeping)
            category.save(update_fields=["reference_values"])
    return summary


# --- default handling units -----------------------------------------------------------------

_REMIT_SEPARATORS = re.compile(r"[,，、;；\n\r]+")


def remit_keywords(remit: str) -> list[str]:
    """The keywords of an org unit's remit (职责范围): separated by commas, 、, semicolons or lines."""
    return [word.strip() for word in _REMIT_SEPARATORS.split(remit or "") if word.strip()]


@transaction.atomic
def catalog_assign_default_units() -> int:
    """Give each category without a default handling unit the first active org unit (by code)
    whose remit keyword occurs in the category's responsible-unit type, or failing that in
    its name. Categories that already have one keep it. Returns how many were assigned."""
    units = [(unit, remit_keywords(unit.remit)) for unit in OrgUnit.objects.filter(is_active=True).order_by("code")]
    units = [(unit, words) for unit, words in units if words]
    if not units:
        return 0
    assigned = []
    for category in Category.objects.filter(default_handling_unit__isnull=True).order_by("id"):
        for text in (category.responsible_unit_type, category.name):
            match = next((unit for unit, words in units if text and any(w in text for w in words)), None)
            if match is not None:
                category.default_handling_unit = match
                assigned.append(category)
                break
    from civicgrid.audit.services import audit_suppressed

    with audit_suppressed("分配默认处置单位", prefix="批量修改") as batch:
        Category.objects.bulk_update(assigned, ["default_handling_unit"], batch_size=500)
        batch.count(Category, "update", len(assigned))
    return len(assigned)


# --- confirming -----------------------------------------------------------------------------


@transaction.atomic
def catalog_confirm_categories(*, categories: QuerySet[Category]) -> int:
    """Adopt the selected categories' conditions and time limits as this county's standard
    (确认为本地标准). Empty conditions stay unconfirmed: there is nothing to adopt.
    Returns the number of categories confirmed."""
    from civicgrid.audit.services import audit_suppressed

    ids = list(categories.values_list("id", flat=True))
    with audit_suppressed("确认为本地标准", prefix="批量修改") as batch:
        Category.objects.filter(id__in=ids).exclude(filing_condition="").update(filing_condition_confirmed=True)
        Category.objects.filter(id__in=ids).exclude(closing_condition="").update(closing_condition_confirmed=True)
        limits = StageTimeLimit.objects.filter(category_id__in=ids).update(confirmed=True)
        batch.count(Category, "update", len(ids))
        batch.count(StageTimeLimit, "update", limits)
    return len(ids)
