"""Benchmarks of the case history import (`python -m civicgrid.bench -k import`).

"bulk import" imports a CSV of BENCH_IMPORT_ROWS (default 50,000) closed cases of the demo
county — random points inside its grids, catalogue categories by name or code, channels,
handling units, report, filing and closing times over five years — generated once under
VAR_DIR/bench/, and rolls the transaction back after each run (the evaluation refresh that
follows a committed import is not part of it). Its rate is CSV rows (cases) per second, from
reading the file to the last row written.

"bulk import, raw COPY of the same rows" is the floor the import is compared with: the case rows
one import produced (captured once in a rolled-back import), written to a file by
`COPY … TO STDOUT` and loaded back with `COPY cases_case (…) FROM STDIN`, rolled back; on SQLite
one executemany of the same rows, already adapted, in one transaction. Its description gives
the import's median as a share of it (the target on PostgreSQL: at least 25 %).
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from civicgrid.bench import Scenario

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "50000"))
SEED = 2024
TARGET_SHARE = 0.25  # of raw COPY, on PostgreSQL
CHANNELS = {
    "监督员上报": 60,
    "公众上报": 15,
    "12345 热线": 15,
    "视频识别": 5,
    "坐席登记": 2,
    "领导交办": 1.5,
    "媒体曝光": 1.5,
}
DETAILS = ["影响市容环境", "群众多次反映", "位于人行道旁，影响通行", "已持续数日", "靠近学校门口", "沿街商铺附近"]
ROADS = ["阳明路", "横水大道", "文峰路", "崇义大道", "人民路", "解放街", "城南路", "上堡路"]


class _State:
    csv_path: Path | None = None
    copy_data: bytes = b""  # PostgreSQL: the rows in COPY text format
    rows: list = []  # SQLite: the rows, adapted for the driver
    columns: list[str] = []
    import_rates: list[float] = []
    raw_rates: list[float] = []


_state = _State()


def _csv_path() -> Path:
    """One file per database: the rows name that database's categories, grids and units."""
    from django.conf import settings
    from django.db import connection

    directory = Path(settings.VAR_DIR) / "bench"
    directory.mkdir(parents=True, exist_ok=True)
    database = Path(str(connection.settings_dict["NAME"])).name
    return directory / f"import-cases-{ROWS}-{SEED}-{connection.vendor}-{database}.csv"


def _generate(path: Path) -> None:
    """ROWS closed (94 %) and voided cases as an old system would export them, UTF-8 with BOM."""
    import numpy as np

    from civicgrid.cases.importer import HEADERS, _categories
    from civicgrid.catalog.models import CategoryCode
    from civicgrid.core.models import OrgUnit
    from civicgrid.geo.lookup import get_index
    from civicgrid.geo.models import Grid

    rng = random.Random(SEED)
    gen = np.random.default_rng(SEED)
    bounds = Grid.objects.values_list("min_lon", "min_lat", "max_lon", "max_lat")
    x0, y0 = min(b[0] for b in bounds), min(b[1] for b in bounds)
    x1, y1 = max(b[2] for b in bounds), max(b[3] for b in bounds)
    lons, lats = np.empty(0), np.empty(0)
    while lons.shape[0] < ROWS:
        x, y = np.round(gen.uniform(x0, x1, ROWS), 6), np.round(gen.uniform(y0, y1, ROWS), 6)
        inside = get_index().locate_many(x, y) != None  # noqa: E711 - elementwise on an object array
        lons, lats = np.concatenate([lons, x[inside]]), np.concatenate([lats, y[inside]])
    table, _ambiguous = _categories()
    codes = set(CategoryCode.objects.values_list("code", flat=True))
    names = sorted(key for key in table if key not in codes)
    coded = sorted(key for key in table if key in codes)
    # Departments by name, as a bureau's spreadsheet names them, unless the name is not unique
    # (a platform of several counties has one 市政设施管理所 in each): then by code.
    departments = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT).values_list("name", "code"))
    named = Counter(name for name, _code in departments)
    units = [name if named[name] == 1 else code for name, code in departments]
    units += list(OrgUnit.objects.filter(kind=OrgUnit.Kind.STREET_OFFICE).values_list("code", flat=True))
    channels, weights = list(CHANNELS), list(CHANNELS.values())
    start, span = datetime(2021, 1, 1), (datetime(2025, 11, 1) - datetime(2021, 1, 1)).total_seconds()
    fmt = "%Y-%m-%d %H:%M:%S"
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for k in range(ROWS):
            created = start + timedelta(seconds=int(rng.random() * span))
            category = rng.choice(coded) if rng.random() < 0.3 else rng.choice(names)
            address = "" if rng.random() < 0.5 else f"{rng.choice(ROADS)}{rng.randint(1, 300)}号附近"
            if rng.random() < 0.06:
                status, unit, filed = "已作废", "", ""
                closed = (created + timedelta(minutes=rng.randint(10, 2880))).strftime(fmt)
            else:
                status, unit = "已结案", rng.choice(units)
                filed_at = created + timedelta(minutes=rng.randint(5, 480))
                filed = filed_at.strftime(fmt)
                closed = (filed_at + timedelta(minutes=rng.randint(60, 14400))).strftime(fmt)
            writer.writerow(
                [
                    f"OLD{created.year}{k:07d}",
                    created.strftime(fmt),
                    category,
                    f"{lons[k]:.6f}",
                    f"{lats[k]:.6f}",
                    address,
                    f"{rng.choice(DETAILS)}，请尽快处理",
                    rng.choices(channels, weights)[0],
                    status,
                    filed,
                    closed,
                    unit,
                ]
            )


def _prepare() -> None:
    """The demo county and the CSV, once per bench run."""
    if _state.csv_path is not None:
        return
    from civicgrid.cases.bench import _ensure_data

    _ensure_data(SCENARIOS)
    path = _csv_path()
    if not path.exists():
        started = time.monotonic()
        _generate(path)
        print(f"    wrote {path} ({ROWS:,} rows) in {time.monotonic() - started:.1f} s", flush=True)
    _state.csv_path = path


def _import_and_roll_back() -> int:
    from django.db import transaction

    from civicgrid.cases.importer import cases_import

    with transaction.atomic():
        result = cases_import(path=_state.csv_path)
        transaction.set_rollback(True)
    if result.imported != ROWS:
        raise RuntimeError(f"imported {result.imported} of {ROWS} rows")
    return ROWS


def _run_import() -> int:
    started = time.perf_counter()
    done = _import_and_roll_back()
    _state.import_rates.append(done / (time.perf_counter() - started))
    return done


def _setup_raw() -> None:
    """One import, rolled back, whose case rows become the raw load's input."""
    _prepare()
    from django.db import connection, transaction

    from civicgrid.cases import importer
    from civicgrid.cases.models import Case

    captured = {}
    original = importer._insert_rows

    def capture(model, columns, rows):
        if model is Case:
            captured["columns"], captured["rows"] = columns, rows
        original(model, columns, rows)

    with mock.patch.object(importer, "_insert_rows", capture), transaction.atomic():
        result = importer.cases_import(path=_state.csv_path)
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(Case._meta.get_field(c).column) for c in captured["columns"])
            chunks = []
            with connection.cursor() as cursor:
                query = f"COPY (SELECT {names} FROM cases_case WHERE id >= {min(result.case_ids)}"
                query += f" AND id <= {max(result.case_ids)} ORDER BY id) TO STDOUT"
                with cursor.copy(query) as copy:
                    chunks.extend(bytes(chunk) for chunk in copy)
            _state.copy_data = b"".join(chunks)
        transaction.set_rollback(True)
    _state.columns = [Case._meta.get_field(c).column for c in captured["columns"]]
    if connection.vendor != "postgresql":
        _state.rows = captured["rows"]  # adapted for the driver by the importer


def _run_raw() -> int:
    from django.db import connection, transaction

    started = time.perf_counter()
    names = ", ".join(connection.ops.quote_name(c) for c in _state.columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY cases_case ({names}) FROM STDIN") as copy:
                data = _state.copy_data
                for i in range(0, len(data), 1 << 20):
                    copy.write(data[i : i + (1 << 20)])
        else:
            marks = ", ".join(["%s"] * len(_state.columns))
            cursor.executemany(f"INSERT INTO cases_case ({names}) VALUES ({marks})", _state.rows)
        transaction.set_rollback(True)
    _state.raw_rates.append(ROWS / (time.perf_counter() - started))
    return ROWS


def _teardown_raw() -> None:
    _state.rows, _state.copy_data = [], b""
    if _state.import_rates and _state.raw_rates:
        share = statistics.median(_state.import_rates) / statistics.median(_state.raw_rates)
        RAW.description += (
            f" The import ran at {share:.0%} of this rate (medians; target on PostgreSQL ≥ {TARGET_SHARE:.0%})."
        )


IMPORT = Scenario(
    name="bulk import",
    unit="cases",
    setup=_prepare,
    run=_run_import,
    description=(
        f"manage.py import_cases of a {ROWS:,}-row CSV of closed cases (UTF-8, Chinese headers): every row "
        "checked (category, grid lookup, times, status, units), numbered, written with one import event "
        "each (COPY on PostgreSQL, executemany on SQLite), rolled back; cases per second."
    ),
)
RAW = Scenario(
    name="bulk import, raw COPY of the same rows",
    unit="cases",
    setup=_setup_raw,
    run=_run_raw,
    teardown=_teardown_raw,
    description=(
        "The case rows one import produced, loaded as they are: COPY cases_case FROM STDIN on PostgreSQL, "
        "one executemany of the adapted rows in one transaction on SQLite; rolled back."
    ),
)
SCENARIOS = [IMPORT, RAW]
