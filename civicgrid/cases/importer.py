"""Import closed case history from a CSV (导入历史案件): `cases_import(path=...)`.

A bureau moving onto CivicGrid from another system brings years of finished cases as a CSV,
UTF-8 or GBK (Excel's 另存为 CSV on a Chinese Windows). Each row becomes one Case in its final
status (已结案 or 已作废) with its grid, community, street and region from the point, a number
from CaseNumberSequence like every other case, and one CaseEvent "import" (导入) that records
where it came from. Columns, formats and errors: docs/import.md.

All rows are checked before anything is written; any bad row and nothing is written
(`CaseImportError` lists every problem as 第 N 行 字段 原因). Rows whose external id and
channel are already in the database are skipped, so importing a file again adds nothing.

Speed: the file is read column by column (no model instances, no per-row queries): points are
located in one vectorised call, categories, channels and units through dictionaries built
once. The rows then go in by COPY on PostgreSQL (case ids taken from the sequence first, so
the events can name their case) and by executemany on SQLite; values are adapted for each
backend as the history loader adapts them (civicgrid.cases.history._adapter).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, JSONField, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case, CaseEvent, Channel
from civicgrid.cases.workflow import Status
from civicgrid.catalog.models import Category, CategoryCode
from civicgrid.core.models import OrgUnit

# The action of the event each imported case gets (not a transition: the case arrives finished).
IMPORT_ACTION = "import"
# Field → accepted headers (Chinese as the old systems export them, or English).
COLUMNS = {
    "external_id": ("原案件编号", "external_id"),
    "created_at": ("上报时间", "created_at"),
    "category": ("问题类别", "category"),
    "lon": ("经度", "lon"),
    "lat": ("纬度", "lat"),
    "address": ("地址", "address"),
    "description": ("问题描述", "description"),
    "channel": ("来源", "channel"),
    "status": ("状态", "status"),
    "filed_at": ("立案时间", "filed_at"),
    "closed_at": ("结案时间", "closed_at"),
    "handling_unit": ("处置单位", "handling_unit"),
}
OPTIONAL = frozenset({"address", "filed_at", "handling_unit"})
LABELS = {name: headers[0] for name, headers in COLUMNS.items()}
HEADERS = list(LABELS.values())
STATUSES = {"已结案": Status.CLOSED, "已作废": Status.VOIDED, "closed": Status.CLOSED, "voided": Status.VOIDED}
MAX_LENGTH = {"external_id": 64, "address": 256, "description": 4000}
SHOWN_ERRORS = 50
IMPORT_LOCK = 7_360_725  # PostgreSQL advisory lock key: one case import at a time
BATCH = 5000
_LOOSE_TIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2}))?(?:\.\d+)?)?$"
)


@dataclass(frozen=True)
class RowError:
    row: int  # line of the file as a spreadsheet numbers it: the header is row 1
    field: str  # the column's Chinese header
    reason: str

    def __str__(self) -> str:
        return _("第 %(row)d 行 %(field)s %(reason)s") % {"row": self.row, "field": self.field, "reason": self.reason}


class CaseImportError(Exception):
    """The file has bad rows: nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors[:SHOWN_ERRORS]))


@dataclass
class ImportResult:
    rows: int  # data rows in the file
    imported: int  # cases written (or that would be, in a dry run)
    skipped: int  # rows already imported (same external id and channel)
    dry_run: bool = False
    seconds: float = 0.0
    case_ids: list[int] = field(default_factory=list, repr=False)


def cases_import(*, path: str | Path, dry_run: bool = False, now: datetime | None = None) -> ImportResult:
    """Check every row of the CSV at `path`, then write them all in one transaction.

    Raises CaseImportError (nothing written) if any row is bad. With `dry_run`, checks and
    counts only. The evaluation facts are refreshed after the commit.
    """
    started = time.monotonic()
    now = now or timezone.now()
    rows = _read(Path(path))
    plan = _Plan.check(rows, now)
    if plan.errors:
        raise CaseImportError(plan.errors)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two imports of one file at once would both find its rows new: one waits for the
            # other's commit here. (SQLite's write lock, taken when the transaction begins, does it.)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
        plan.skip_existing()
        result = ImportResult(len(plan.rows), len(plan.keep), len(plan.rows) - len(plan.keep), dry_run)
        if not dry_run and plan.keep:
            result.case_ids = plan.write(now, source=Path(path).name)
    result.seconds = time.monotonic() - started
    if result.case_ids:
        # Runs at once, or after the caller's commit when the import is part of a larger transaction.
        transaction.on_commit(_refresh_evaluation)
    return result


def _refresh_evaluation() -> None:
    from civicgrid.evaluation.facts import refresh

    refresh()


def _read(path: Path) -> list[list[str]]:
    """The file's records, header first; UTF-8 (with or without BOM), else GBK (as GB18030)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise CaseImportError(
                [RowError(1, _("文件"), _("编码无法识别，请保存为 UTF-8 或 GBK 编码的 CSV"))]
            ) from None
    return list(csv.reader(io.StringIO(text, newline="")))


class _Plan:
    """The file's rows checked column by column; `keep` are the row indexes to write."""

    def __init__(self, rows: list[list[str]], now: datetime):
        self.now = now
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.errors: list[RowError] = []
        self.rows = rows
        self.columns: dict[str, list] = {}
        self.keep: list[int] = []
        self.numbers: list[int] = []

    @classmethod
    def check(cls, records: list[list[str]], now: datetime) -> _Plan:
        if not records:
            plan = cls([], now)
            plan.errors.append(RowError(1, _("表头"), _("文件是空的")))
            return plan
        header, rows = records[0], [r for r in records[1:] if any(cell.strip() for cell in r)]
        plan = cls(rows, now)
        positions = plan._header(header)
        if plan.errors:
            return plan
        # Row numbers as a spreadsheet shows them (blank lines counted, as Excel keeps them).
        plan.numbers = [k + 2 for k, r in enumerate(records[1:]) if any(cell.strip() for cell in r)]
        width = len(header)
        for k, row in enumerate(rows):
            if len(row) < width:
                rows[k] = row + [""] * (width - len(row))
        raw = list(zip(*rows, strict=False)) if rows else [()] * width
        cells = {name: [v.strip() for v in raw[i]] for name, i in positions.items()}
        for name in OPTIONAL - set(positions):
            cells[name] = [""] * len(rows)
        plan._check_columns(cells)
        order = {label: i for i, label in enumerate(LABELS.values())}
        plan.errors.sort(key=lambda e: (e.row, order.get(e.field, -1)))
        return plan

    def _error(self, k: int, name: str, reason: str) -> None:
        self.errors.append(RowError(self.numbers[k], LABELS[name], reason))

    def _header(self, header: list[str]) -> dict[str, int]:
        known = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
        positions: dict[str, int] = {}
        for i, title in enumerate(header):
            name = known.get(title.strip().lstrip("\ufeff").lower())
            if name is not None and name not in positions:
                positions[name] = i
        for name in COLUMNS:
            if name not in positions and name not in OPTIONAL:
                self.errors.append(RowError(1, LABELS[name], _("缺少这一列")))
        return positions

    def _check_columns(self, cells: dict[str, list[str]]) -> None:
        n = len(self.rows)
        for name in ("external_id", "description", "channel", "status", "category", "created_at", "closed_at"):
            for k in (k for k, v in enumerate(cells[name]) if not v):
                self._error(k, name, _("不能为空"))
        for name, limit in MAX_LENGTH.items():
            for k in (k for k, v in enumerate(cells[name]) if len(v) > limit):
                self._error(k, name, _("超过 %(limit)d 个字符") % {"limit": limit})
        self.columns["external_id"] = cells["external_id"]
        self.columns["description"] = cells["description"]
        self.columns["channel"] = self._lookup(cells, "channel", _channels(), _("未知的来源"))
        self.columns["status"] = self._lookup(cells, "status", STATUSES, _("只能导入已结案或已作废的历史案件"))
        categories, ambiguous = _categories()
        self.columns["category_id"] = self._lookup(cells, "category", categories, _("未知的问题类别"), ambiguous)
        units, ambiguous_units = _units()
        self.columns["handling_unit_id"] = self._lookup(
            cells, "handling_unit", units, _("未知的处置单位"), ambiguous_units
        )
        for name in ("created_at", "filed_at", "closed_at"):
            self.columns[name] = self._times(cells, name)
        self._check_order(cells["filed_at"])
        self._locate(cells, n)
        self._check_duplicates()

    def _lookup(self, cells, name, table, unknown, ambiguous=frozenset()) -> list:
        out = []
        get = table.get
        for k, v in enumerate(cells[name]):
            found = get(v)
            if found is None and v:
                found = get(v.lower())
                if found is None:
                    self._error(
                        k, name, _("“%(value)s”对应多个，请填写编码") % {"value": v} if v in ambiguous else unknown
                    )
            out.append(found)
        return out

    def _times(self, cells, name) -> list:
        out: list[datetime | None] = []
        tz, now = self.tz, self.now
        parse = datetime.fromisoformat
        for k, v in enumerate(cells[name]):
            if not v:
                out.append(None)
                continue
            try:
                t = parse(v)
            except ValueError:
                t = _loose_time(v)
                if t is None:
                    self._error(k, name, _("时间格式无法识别，应为 2024-03-05 14:20 这样的格式"))
                    out.append(None)
                    continue
            if t.tzinfo is None:
                t = t.replace(tzinfo=tz)
            if t > now:
                self._error(k, name, _("晚于当前时间"))
            out.append(t)
        return out

    def _check_order(self, filed_cells: list[str]) -> None:
        created, filed, closed = self.columns["created_at"], self.columns["filed_at"], self.columns["closed_at"]
        status = self.columns["status"]
        for k, (c, f, d, s) in enumerate(zip(created, filed, closed, status, strict=True)):
            if s == Status.CLOSED and not filed_cells[k]:
                self._error(k, "filed_at", _("已结案的案件须填写立案时间"))
            if c is not None and f is not None and f < c:
                self._error(k, "filed_at", _("早于上报时间"))
            if d is not None:
                if c is not None and d < c:
                    self._error(k, "closed_at", _("早于上报时间"))
                elif f is not None and d < f:
                    self._error(k, "closed_at", _("早于立案时间"))

    def _locate(self, cells, n: int) -> None:
        from civicgrid.geo.lookup import get_index

        coords = {}
        for name in ("lon", "lat"):
            try:
                values = np.array(cells[name], dtype=float)
            except ValueError:
                values = np.full(n, np.nan)
                for k, v in enumerate(cells[name]):
                    try:
                        values[k] = float(v)
                    except ValueError:
                        self._error(k, name, _("不能为空") if not v else _("不是数字"))
                        continue
                    if not np.isfinite(values[k]):
                        self._error(k, name, _("不是数字"))
            else:
                for k in np.flatnonzero(~np.isfinite(values)).tolist():
                    self._error(k, name, _("不是数字"))
            coords[name] = values
        lons, lats = coords["lon"], coords["lat"]
        codes = get_index().locate_many(lons, lats)
        grids = _grids()
        finite = np.isfinite(lons) & np.isfinite(lats)
        codes_list = codes.tolist()
        for k in np.flatnonzero(finite & (codes == None)).tolist():  # noqa: E711 - elementwise on an object array
            self._error(k, "lon", _("坐标（%(lon)s, %(lat)s）不在管理区域内") % {"lon": lons[k], "lat": lats[k]})
        self.columns["lon"], self.columns["lat"] = lons.tolist(), lats.tolist()
        self.columns["grid"] = [grids.get(code) for code in codes_list]
        self.columns["address"] = cells["address"]

    def _check_duplicates(self) -> None:
        keys = list(zip(self.columns["external_id"], self.columns["channel"], strict=True))
        counts = Counter(keys)
        if len(counts) == len(keys):
            return
        first: dict[tuple, int] = {}
        for k, key in enumerate(keys):
            if counts[key] > 1 and key[0]:
                if key in first:
                    self._error(k, "external_id", _("与第 %(row)d 行重复") % {"row": self.numbers[first[key]]})
                else:
                    first[key] = k

    def skip_existing(self) -> None:
        """Keep the rows whose external id and channel are not in the database yet."""
        ids, channels = self.columns.get("external_id", []), self.columns.get("channel", [])
        existing: set[tuple[str, str]] = set()
        unique = sorted(set(ids))
        table = connection.ops.quote_name(Case._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One array parameter: a list of 50,000 placeholders took seconds to plan.
                cursor.execute(f"SELECT external_id, channel FROM {table} WHERE external_id = ANY(%s)", [unique])
                existing.update(cursor.fetchall())
            else:
                # One statement with all the ids (external_id is indexed: case_external_id)
                # as one JSON parameter: SQLite allows only 999 placeholders.
                cursor.execute(
                    f"SELECT external_id, channel FROM {table} WHERE external_id IN (SELECT value FROM json_each(%s))",
                    [json.dumps(unique)],
                )
                existing.update(cursor.fetchall())
        self.keep = [k for k, key in enumerate(zip(ids, channels, strict=True)) if key not in existing]

    def write(self, now: datetime, *, source: str) -> list[int]:
        """Insert the kept rows (report order gives the numbers); the new case ids.

        Built column by column and zipped into rows at the end: per-row dictionaries and
        tuples assembled in Python cost more than the COPY itself.
        """
        from civicgrid.cases.history import HistoryWriter

        cols, tz = self.columns, self.tz
        keep = sorted(self.keep, key=cols["created_at"].__getitem__)

        def pick(name: str) -> list:
            column = cols[name]
            return [column[k] for k in keep]

        grids, created, status = pick("grid"), pick("created_at"), pick("status")
        sequences = HistoryWriter(photos=False)
        number = sequences._number
        ids = _new_ids(len(keep))
        values = {
            "id": ids,
            "number": [number(g.county, t.astimezone(tz).year) for g, t in zip(grids, created, strict=True)],
            "channel": pick("channel"),
            "category_id": pick("category_id"),
            "description": pick("description"),
            "address": [a or g.label for a, g in zip(pick("address"), grids, strict=True)],
            "lon": pick("lon"),
            "lat": pick("lat"),
            "grid_id": [g.id for g in grids],
            "community_id": [g.community_id for g in grids],
            "street_id": [g.street_id for g in grids],
            "region_code": [g.region_code for g in grids],
            "region_class": [g.region_class for g in grids],
            "external_id": pick("external_id"),
            "status": status,
            "handling_unit_id": pick("handling_unit_id"),
            "created_at": created,
            "updated_at": _Same(now),
            "filed_at": pick("filed_at"),
            "closed_at": pick("closed_at"),
        }
        for seq in sequences.sequences.values():
            seq.save(update_fields=["last"])
        _insert_rows(Case, CASE_COLUMNS, _rows(Case, CASE_COLUMNS, {**_DEFAULTS, **values}))
        events = {
            "case_id": ids,
            "action": _Same(IMPORT_ACTION),
            "from_status": _Same(""),
            "to_status": status,
            "actor_id": _Same(None),
            "actor_role": _Same(""),
            "unit_id": _Same(None),
            "at": _Same(now),
            "note": _Same(""),
            "data": [{"source": source, "row": self.numbers[k]} for k in keep],
        }
        _insert_rows(CaseEvent, EVENT_COLUMNS, _rows(CaseEvent, EVENT_COLUMNS, events))
        return ids


def _loose_time(value: str) -> datetime | None:
    """2024/3/5 14:20, 2024.3.5, 2024年3月5日 14时… as spreadsheets write them."""
    m = _LOOSE_TIME.match(value.replace("时", ":").replace("分", ":").rstrip(":秒"))
    if m is None:
        return None
    try:
        return datetime(*(int(x) for x in m.groups(default="0")))
    except ValueError:
        return None


#
# Reference data as dictionaries, read once per import
#


def _channels() -> dict[str, str]:
    table = {}
    for choice in Channel:
        table[choice.value] = choice.value
        table[str(choice.label)] = choice.value
        table[str(choice.label).replace(" ", "")] = choice.value
    table.update({"12345": Channel.HOTLINE, "12319": Channel.HOTLINE, "热线": Channel.HOTLINE})
    return table


def _categories() -> tuple[dict[str, int], set[str]]:
    """Code (GB/T 47678.5 or legacy) or name → category id; names and codes shared by two are ambiguous."""
    seen: dict[str, set[int]] = {}
    for pk, name in Category.objects.values_list("pk", "name"):
        seen.setdefault(name, set()).add(pk)
    for pk, code in CategoryCode.objects.values_list("category_id", "code"):
        seen.setdefault(code, set()).add(pk)
    table = {key: next(iter(pks)) for key, pks in seen.items() if len(pks) == 1}
    return table, {key for key, pks in seen.items() if len(pks) > 1}


def _units() -> tuple[dict[str, int], set[str]]:
    seen: dict[str, set[int]] = {}
    for pk, code, name in OrgUnit.objects.values_list("pk", "code", "name"):
        seen.setdefault(code, set()).add(pk)
        seen.setdefault(name, set()).add(pk)
    table = {key: next(iter(pks)) for key, pks in seen.items() if len(pks) == 1}
    return table, {key for key, pks in seen.items() if len(pks) > 1}


@dataclass(frozen=True)
class _Grid:
    id: int
    community_id: int
    street_id: int
    region_code: str
    region_class: str
    label: str  # the default address, as services.case_report writes it

    @property
    def county(self) -> str:
        return self.region_code[:6]


def _grids() -> dict[str, _Grid]:
    from civicgrid.geo.models import Grid

    rows = Grid.objects.values_list(
        "code",
        "id",
        "community_id",
        "community__parent_id",
        "region_code",
        "region_class",
        "name",
        "community__name",
        "community__parent__name",
    )
    return {
        code: _Grid(pk, community, street, region, cls, f"{street_name}{community_name}{name or code}")
        for code, pk, community, street, region, cls, name, community_name, street_name in rows
    }


#
# Writing
#


class _Same:
    """A value that every row has (adapted once, not per row)."""

    def __init__(self, value):
        self.value = value


# Case columns the import sets; the others take the values a finished case without clocks has.
_DEFAULTS = {
    name: _Same(value)
    for name, value in {
        "reporter_id": None,
        "reporter_name": "",
        "reporter_phone": "",
        "assignee_id": None,
        "verified": None,
        "urgent": False,
        "supervised": False,
        "remind_count": 0,
        "rework_count": 0,
        "extension_count": 0,
        "return_count": 0,
        "deferral_count": 0,
        "reopen_count": 0,
        "resolution_mode": "",
        "duplicate_of_id": None,
        "stage": "",
        "stage_started_at": None,
        "stage_warn_at": None,
        "stage_deadline": None,
        "stage_paused": False,
        "overdue_marked": False,
        "version": 1,
    }.items()
}
CASE_COLUMNS = [f.attname for f in Case._meta.concrete_fields]
# Every column but the id (the database gives it): a raw INSERT or COPY gets no model defaults.
EVENT_COLUMNS = [
    "case_id",
    "action",
    "from_status",
    "to_status",
    "actor_id",
    "actor_role",
    "unit_id",
    "at",
    "note",
    "data",
]


def _new_ids(n: int) -> list[int]:
    """Case ids for n new cases, taken before the insert so that the events can name them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Case._meta.db_table, n],
            )
            return [row[0] for row in cursor.fetchall()]
    # SQLite: the transaction holds the write lock from its start (transaction_mode IMMEDIATE),
    # so nobody else takes an id before these rows are in.
    first = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    return list(range(first, first + n))


def _rows(model, names: list[str], columns: dict) -> list[tuple]:
    """Rows for the driver from columns (lists, or _Same), each value adapted as Django would."""
    from civicgrid.cases.history import _adapter

    fields = {f.attname: f for f in model._meta.concrete_fields}
    adapted = []
    for name in names:
        model_field, column = fields[name], columns[name]
        adapt = _copy_adapter(model_field) if connection.vendor == "postgresql" else _adapter(model_field)
        if isinstance(column, _Same):
            adapted.append(repeat(adapt(column.value) if adapt else column.value))
        else:
            adapted.append(list(map(adapt, column)) if adapt else column)
    return list(zip(*adapted, strict=False))  # the _Same columns repeat without end


def _copy_adapter(model_field) -> Callable | None:
    """How COPY gets a value: as text that PostgreSQL parses. psycopg dumps an aware datetime
    itself, but at about 12 µs each that was most of the Python time of an import."""
    if isinstance(model_field, JSONField):
        return json.dumps
    if isinstance(model_field, DateTimeField):
        return _isoformat
    return None


def _isoformat(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _insert_rows(model, names: list[str], rows: list[tuple]) -> None:
    """COPY on PostgreSQL, executemany in batches elsewhere."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(fields[name].column) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg.copy import QueuedLibpqWriter

            # Django's cursor wraps psycopg's. A queued writer sends the data from a thread, so
            # that formatting the next rows here overlaps with the server storing the last ones.
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(raw)) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
        for i in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[i : i + BATCH])
