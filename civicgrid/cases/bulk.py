"""Millions of cases for benchmarks: the demo history, scaled to several counties, written with COPY.

`manage.py load_cases 10000000 --counties 10` on PostgreSQL. Simulating a case as the services
would (civicgrid/cases/history.py) costs about half a millisecond of Python; ten million of
them would take an hour and a half on one core. So the simulator plays *templates* once, and
each county stamps out its own copies of a random share of them:

- the other counties are copies of the demo county (`county_copies`): its region tree, grids
  and responsibility grids shifted east on the map, its units and staff, with their own
  region codes (360726, 360727 …) and logins (`dispatcher@360726`), every one scoped to its
  county as a shared platform needs (docs/deploy.md, "Several counties on one platform");
- a template is a simulated case already turned into row values (case, stage runs, events,
  photos, ratings); stamping one for a county swaps ids, region, grid, unit and staff
  references, shifts the point, and numbers the case in that county's sequence;
- each county takes about 80 % of the templates, drawn at random by chunk, so that counties
  differ in their cases while each one keeps the simulator's distributions (channels,
  categories, hot spots, seasons, outcomes, time limits on the holiday calendar). With one
  county every template is used once: the cases are exactly the simulator's.

Rows go to PostgreSQL by COPY, one transaction per chunk (about 40,000 cases at 10 counties),
with foreign-key triggers off for the load when the role may do so (the generator keeps the
references right; `session_replication_role` needs a superuser, otherwise they stay on); to
SQLite by executemany in the same chunks.
"""

from __future__ import annotations

import math
import queue
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from civicgrid.cases.history import CaseSimulation, HistoryGenerator, World, _adapter
from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseNumberSequence, CaseStage, Rating
from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.models import Grid, Region, ResponsibilityGrid

# The share of the templates each county takes when there are several counties.
COUNTY_SHARE = 0.8
# Counties lie side by side, this many degrees of longitude apart (the demo county is ~0.04° wide).
COUNTY_STEP_LON = 0.1
TEMPLATE_CHUNK = 5_000


#
# Counties
#


@dataclass
class County:
    """One county of the platform and how a demo-county template maps into it."""

    code: str  # 6 digits
    region_id: int
    dlon: float
    regions: dict[int, int] = field(default_factory=dict)  # demo region id -> this county's
    grids: dict[int, int] = field(default_factory=dict)
    units: dict[int, int] = field(default_factory=dict)
    users: dict[int, int] = field(default_factory=dict)

    @property
    def is_base(self) -> bool:
        return self.dlon == 0.0


def _shift(geometry, dlon: float):
    """A GeoJSON geometry (or any nesting of coordinate lists) moved dlon degrees east."""
    if isinstance(geometry, dict):
        return {k: (_shift(v, dlon) if k == "coordinates" else v) for k, v in geometry.items()}
    if geometry and isinstance(geometry[0], int | float):
        return [round(geometry[0] + dlon, 8), *geometry[1:]]
    return [_shift(part, dlon) for part in geometry]


def _identity(ids: Iterable[int]) -> dict[int, int]:
    return {i: i for i in ids}


def base_county() -> Region:
    """The county the templates are simulated in: the first one loaded (the demo county)."""
    county = Region.objects.filter(level=Region.Level.COUNTY).order_by("pk").first()
    if county is None:
        raise RuntimeError("no county: run manage.py demo first")
    return county


def county_copies(n: int) -> list[County]:
    """The demo county and n - 1 copies of it (made when missing); the first is the demo county."""
    base = base_county()
    base_regions = list(Region.objects.filter(code__startswith=base.code).order_by("code"))
    base_grids = list(Grid.objects.filter(region_code__startswith=base.code).order_by("code"))
    base_rgrids = list(
        ResponsibilityGrid.objects.filter(street__code__startswith=base.code).prefetch_related("grids").order_by("code")
    )
    # The demo county's units: those of its streets and those with no region (the bureau's own).
    base_units = list(
        OrgUnit.objects.filter(region__isnull=True).order_by("pk")
        | OrgUnit.objects.filter(region__code__startswith=base.code).order_by("pk")
    )
    base_users = list(
        User.objects.filter(is_active=True, is_superuser=False).exclude(role=Role.ADMIN).exclude(username__contains="@")
    )
    counties = [
        County(
            base.code,
            base.pk,
            0.0,
            _identity(r.pk for r in base_regions),
            _identity(g.pk for g in base_grids),
            _identity(u.pk for u in base_units),
            _identity(u.pk for u in base_users),
        )
    ]
    if n > 1:
        # On a shared platform the demo county's staff see their own county only.
        for user in base_users:
            if user.scope == User.Scope.ALL:
                user.scope, user.scope_region = User.Scope.REGION, base
                user.save(update_fields=["scope", "scope_region"])
    for k in range(1, n):
        code = f"{int(base.code) + k:06d}"
        existing = Region.objects.filter(code=code).first()
        county = _county_copy(
            base, code, k * COUNTY_STEP_LON, existing, base_regions, base_grids, base_rgrids, base_units, base_users
        )
        counties.append(county)
    return counties


def _county_copy(base, code, dlon, existing, base_regions, base_grids, base_rgrids, base_units, base_users) -> County:
    def recode(c: str) -> str:
        return code + c[len(base.code) :]

    with transaction.atomic():
        if existing is None:
            regions: dict[int, Region] = {}
            for r in base_regions:  # ordered by code: parents first
                regions[r.pk] = Region.objects.create(
                    code=recode(r.code),
                    name=f"模拟{code}县" if r.pk == base.pk else r.name,
                    level=r.level,
                    parent=regions.get(r.parent_id),
                    boundary=_shift(r.boundary, dlon) if r.boundary else None,
                )
            grids = Grid.objects.bulk_create(
                [
                    Grid(
                        code=recode(g.code),
                        name=g.name,
                        community=regions[g.community_id],
                        region_code=recode(g.region_code),
                        region_class=g.region_class,
                        geometry=_shift(g.geometry, dlon),
                        min_lon=g.min_lon + dlon,
                        min_lat=g.min_lat,
                        max_lon=g.max_lon + dlon,
                        max_lat=g.max_lat,
                        centroid_lon=g.centroid_lon + dlon,
                        centroid_lat=g.centroid_lat,
                        area_m2=g.area_m2,
                    )
                    for g in base_grids
                ]
            )
            units: dict[int, OrgUnit] = {}
            for u in sorted(base_units, key=lambda u: (u.parent_id is not None, u.pk)):
                units[u.pk] = OrgUnit.objects.create(
                    code=f"{code}-{u.code}",
                    name=u.name,
                    kind=u.kind,
                    remit=u.remit,
                    phone=u.phone,
                    is_active=u.is_active,
                    parent=units.get(u.parent_id),
                    # Units of the bureau are attached to the county: their staff's scope.
                    region=regions[u.region_id] if u.region_id else regions[base.pk],
                )
            users: dict[int, User] = {}
            for u in base_users:
                copy = User(
                    username=f"{u.username}@{code}",
                    display_name=u.display_name,
                    role=u.role,
                    org_unit=units.get(u.org_unit_id),
                    scope=User.Scope.UNIT if u.scope == User.Scope.UNIT else User.Scope.REGION,
                    scope_region=regions[base.pk] if u.scope != User.Scope.UNIT else None,
                )
                copy.set_unusable_password()
                users[u.pk] = copy
            User.objects.bulk_create(users.values())
            grid_ids = {g.pk: new.pk for g, new in zip(base_grids, grids, strict=True)}
            for rg in base_rgrids:
                new = ResponsibilityGrid.objects.create(
                    code=recode(rg.code),
                    name=rg.name,
                    street=regions[rg.street_id],
                    inspector=users.get(rg.inspector_id),
                )
                new.grids.set([grid_ids[g.pk] for g in rg.grids.all()])
        region_ids = {r.pk: Region.objects.get(code=recode(r.code)).pk for r in base_regions}
        grid_ids = dict(
            zip(
                [g.pk for g in base_grids],
                Grid.objects.filter(code__in=[recode(g.code) for g in base_grids])
                .order_by("code")
                .values_list("pk", flat=True),
                strict=True,
            )
        )
        unit_pk = dict(OrgUnit.objects.filter(code__startswith=f"{code}-").values_list("code", "pk"))
        user_pk = dict(User.objects.filter(username__endswith=f"@{code}").values_list("username", "pk"))
    return County(
        code,
        region_ids[base.pk],
        dlon,
        region_ids,
        grid_ids,
        {u.pk: unit_pk[f"{code}-{u.code}"] for u in base_units},
        {u.pk: user_pk[f"{u.username}@{code}"] for u in base_users},
    )


#
# Templates: simulated cases staged as rows; the counties' copies made by INSERT … SELECT
#

# Staging tables (temporary, per connection): each template's rows with its index `tmpl`, and
# the event index `j` that photos and ratings name; `bulk_pick` says which county takes which
# template under which case id and number; `bulk_map` maps the demo county's ids to a county's.


class _Table:
    """A model's columns as the staging table holds them (and the extra columns it adds)."""

    def __init__(self, model, staging: str, skip: tuple[str, ...], extra: tuple[tuple[str, str], ...]):
        self.model, self.staging = model, staging
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in skip]
        self.columns = [f.attname for f in self.fields]
        self.extra = extra
        self.adapters = [(i, a) for i, f in enumerate(self.fields) if (a := _adapter(f)) is not None]

    def values(self, row, *extra) -> list:
        d = row.__dict__
        out = [d[c] for c in self.columns]
        for i, adapt in self.adapters:
            out[i] = adapt(out[i])
        out.extend(extra)
        return out

    def create_sql(self) -> str:
        qn = connection.ops.quote_name
        cols = ", ".join(qn(f.column) for f in self.fields)
        return f"CREATE TEMP TABLE {self.staging} AS SELECT {cols} FROM {qn(self.model._meta.db_table)} WHERE 1 = 0"

    def column_sql(self) -> str:
        qn = connection.ops.quote_name
        return ", ".join([qn(f.column) for f in self.fields] + [name for name, _type in self.extra])


class _Tables:
    """The staging tables of the five case tables."""

    def __init__(self):
        big = "bigint"
        self.case = _Table(Case, "bulk_case", ("number", "duplicate_of_id"), (("tmpl", big),))
        self.stage = _Table(CaseStage, "bulk_stage", ("case_id",), (("tmpl", big),))
        event_extra = (("tmpl", big), ("j", "integer"), ("kind", "integer"), ("data_unit", big))
        self.event = _Table(CaseEvent, "bulk_event", ("case_id",), event_extra)
        self.attachment = _Table(
            Attachment, "bulk_attachment", ("case_id", "event_id"), (("tmpl", big), ("j", "integer"))
        )
        self.rating = _Table(Rating, "bulk_rating", ("case_id", "event_id"), (("tmpl", big), ("j", "integer")))
        self.all = [self.case, self.stage, self.event, self.attachment, self.rating]


class Templates(_Tables):
    """Simulated cases turned into staging rows (template index `tmpl`, event index `j`)."""

    def __init__(self, *, photos: bool):
        from civicgrid.cases.demo_photos import photo_pool, theme_for
        from civicgrid.catalog.models import Category

        super().__init__()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.pool = photo_pool() if photos else None
        self.themes = {pk: theme_for(name) for pk, name in Category.objects.values_list("pk", "name")} if photos else {}
        self.index_of: dict[int, int] = {}  # id(simulation) -> template index, for duplicates
        self.rows: dict[str, list] = {t.staging: [] for t in self.all}

    def take(self) -> dict[str, list]:
        """The rows staged since the last call."""
        rows, self.rows = self.rows, {t.staging: [] for t in self.all}
        return rows

    def add(self, index: int, sim: CaseSimulation) -> tuple[int, int]:
        """Stage one simulated case as template `index`; returns (its year, its number of events)."""
        from civicgrid.cases.demo_photos import shot_for

        self.index_of[id(sim)] = index
        case = sim.case
        case.updated_at = sim.last_at
        self.rows["bulk_case"].append(self.case.values(case, index))
        for stage in sim.stages:
            self.rows["bulk_stage"].append(self.stage.values(stage, index))
        event_index = {}
        for j, event in enumerate(sim.events):
            event_index[id(event)] = j
            data, kind, unit = event.data, 0, None
            if isinstance(data, dict) and isinstance(data.get("unit"), dict):
                kind, unit = 1, data["unit"].get("id")
            elif isinstance(data, dict) and "duplicate_of" in data:
                kind = 2
            self.rows["bulk_event"].append(self.event.values(event, index, j, kind, unit))
        if self.pool is not None:
            theme = self.themes[case.category_id]
            for row in sim.attachments:
                photo = self.pool[theme, shot_for(row.kind, row._event.action)]
                row.file, row.thumbnail, row.size, row.sha256 = photo.file, photo.thumbnail, photo.size, photo.sha256
                row.content_type = photo.content_type
                self.rows["bulk_attachment"].append(self.attachment.values(row, index, event_index[id(row._event)]))
        for row in sim.ratings:
            self.rows["bulk_rating"].append(self.rating.values(row, index, event_index[id(row._event)]))
        return case.created_at.astimezone(self.tz).year, len(sim.events)

    def original(self, sim: CaseSimulation) -> int | None:
        return self.index_of.get(id(sim.duplicate_of)) if sim.duplicate_of is not None else None


class Stager(_Tables):
    """The staging tables on one connection, and the INSERT … SELECT that stamps out the counties."""

    def __init__(self, counties: list[County]):
        super().__init__()
        self.pg = connection.vendor == "postgresql"
        self._create(counties)

    def _create(self, counties: list[County]) -> None:
        with connection.cursor() as cursor:
            for table in self.all:
                cursor.execute(f"DROP TABLE IF EXISTS {table.staging}")
                cursor.execute(table.create_sql())
                for name, sql_type in table.extra:
                    cursor.execute(f"ALTER TABLE {table.staging} ADD COLUMN {name} {sql_type}")
            for name, ddl in [
                (
                    "bulk_pick",
                    "k integer, tmpl bigint, case_id bigint, number varchar(32), first_event bigint, "
                    "dup_id bigint, dup_number varchar(32)",
                ),
                ("bulk_county", "k integer PRIMARY KEY, code varchar(6), dlon double precision"),
                ("bulk_map", "kind char(1), k integer, old bigint, new bigint, PRIMARY KEY (kind, k, old)"),
            ]:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
                cursor.execute(f"CREATE TEMP TABLE {name} ({ddl})")
        maps = [
            (kind, k, old, new)
            for k, county in enumerate(counties)
            for kind, mapping in (("r", county.regions), ("g", county.grids), ("n", county.units), ("u", county.users))
            for old, new in mapping.items()
        ]
        _stage_rows("bulk_county", "k, code, dlon", [(k, c.code, c.dlon) for k, c in enumerate(counties)])
        _stage_rows("bulk_map", "kind, k, old, new", maps)

    def stamp(self, rows: dict[str, list], picks: list[tuple]) -> int:
        """Write a chunk's templates, then every county's copies; returns the rows written."""
        with connection.cursor() as cursor:
            for table in self.all:
                cursor.execute(f"DELETE FROM {table.staging}")
            cursor.execute("DELETE FROM bulk_pick")
        for table in self.all:
            _stage_rows(table.staging, table.column_sql(), rows[table.staging])
        _stage_rows("bulk_pick", "k, tmpl, case_id, number, first_event, dup_id, dup_number", picks)
        written = 0
        with connection.cursor() as cursor:
            if self.pg:  # the planner's row counts for the joins below (temporary tables have none)
                for name in [t.staging for t in self.all] + ["bulk_pick"]:
                    cursor.execute(f"ANALYZE {name}")
            for sql in self._insert_sql():
                cursor.execute(sql)
                written += cursor.rowcount
        return written

    def _insert_sql(self) -> list[str]:
        qn = connection.ops.quote_name

        def cols(table: _Table, remapped: dict[str, str]) -> tuple[str, str]:
            names, values = [], []
            for f in table.fields:
                names.append(qn(f.column))
                values.append(remapped.get(f.attname, f"t.{qn(f.column)}"))
            return ", ".join(names), ", ".join(values)

        def join(alias: str, kind: str, column: str) -> str:
            on = f"{alias}.kind = '{kind}' AND {alias}.k = p.k AND {alias}.old = {column}"
            return f"LEFT JOIN bulk_map {alias} ON {on}"

        pg = self.pg
        case_cols, case_vals = cols(
            self.case,
            {
                "lon": "ROUND(CAST(t.lon + c.dlon AS numeric), 6)" if pg else "ROUND(t.lon + c.dlon, 6)",
                "region_code": "c.code || SUBSTR(t.region_code, 7)",
                "grid_id": "mg.new",
                "community_id": "mc.new",
                "street_id": "ms.new",
                "assignee_id": "ma.new",
                "reporter_id": "mr.new",
                "handling_unit_id": "mh.new",
            },
        )
        unit_json = (
            "jsonb_set(t.data, '{unit,id}', to_jsonb(md.new))" if pg else "json_set(t.data, '$.unit.id', md.new)"
        )
        merge_json = (
            "jsonb_set(t.data, '{duplicate_of}', to_jsonb(COALESCE(p.dup_number, '')))"
            if pg
            else "json_set(t.data, '$.duplicate_of', COALESCE(p.dup_number, ''))"
        )
        event_cols, event_vals = cols(
            self.event,
            {
                "actor_id": "ma.new",
                "unit_id": "mn.new",
                "data": f"CASE t.kind WHEN 1 THEN {unit_json} WHEN 2 THEN {merge_json} ELSE t.data END",
            },
        )
        stage_cols, stage_vals = cols(self.stage, {"unit_id": "mn.new"})
        att_cols, att_vals = cols(self.attachment, {"uploaded_by_id": "ma.new"})
        rating_cols, rating_vals = cols(self.rating, {"unit_id": "mn.new"})
        return [
            f"INSERT INTO cases_case (id, number, duplicate_of_id, {case_cols}) "
            f"SELECT p.case_id, p.number, p.dup_id, {case_vals} FROM bulk_pick p "
            "JOIN bulk_case t ON t.tmpl = p.tmpl JOIN bulk_county c ON c.k = p.k "
            f"{join('mg', 'g', 't.grid_id')} {join('mc', 'r', 't.community_id')} {join('ms', 'r', 't.street_id')} "
            f"{join('ma', 'u', 't.assignee_id')} {join('mr', 'u', 't.reporter_id')} "
            f"{join('mh', 'n', 't.handling_unit_id')} ORDER BY p.case_id",
            f"INSERT INTO cases_casestage (case_id, {stage_cols}) SELECT p.case_id, {stage_vals} FROM bulk_pick p "
            f"JOIN bulk_stage t ON t.tmpl = p.tmpl {join('mn', 'n', 't.unit_id')} ORDER BY p.case_id",
            f"INSERT INTO cases_caseevent (id, case_id, {event_cols}) "
            f"SELECT p.first_event + t.j, p.case_id, {event_vals} FROM bulk_pick p "
            f"JOIN bulk_event t ON t.tmpl = p.tmpl {join('ma', 'u', 't.actor_id')} {join('mn', 'n', 't.unit_id')} "
            f"{join('md', 'n', 't.data_unit')} ORDER BY 1",
            f"INSERT INTO cases_attachment (case_id, event_id, {att_cols}) "
            f"SELECT p.case_id, p.first_event + t.j, {att_vals} FROM bulk_pick p "
            f"JOIN bulk_attachment t ON t.tmpl = p.tmpl {join('ma', 'u', 't.uploaded_by_id')} ORDER BY p.case_id",
            f"INSERT INTO cases_rating (case_id, event_id, {rating_cols}) "
            f"SELECT p.case_id, p.first_event + t.j, {rating_vals} FROM bulk_pick p "
            f"JOIN bulk_rating t ON t.tmpl = p.tmpl {join('mn', 'n', 't.unit_id')} ORDER BY p.case_id",
        ]

    def drop(self) -> None:
        with connection.cursor() as cursor:
            for name in [t.staging for t in self.all] + ["bulk_pick", "bulk_county", "bulk_map"]:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")


BULK_TABLES = ("cases_case", "cases_casestage", "cases_caseevent", "cases_attachment", "cases_rating")


def _index_file():
    """Where a load keeps the definitions of the indexes it dropped: one file per database, so
    that a load (or a test run) on one database never builds another's indexes."""
    from pathlib import Path

    database = Path(str(connection.settings_dict["NAME"])).name
    return Path(settings.VAR_DIR) / f"bulk-indexes-{connection.vendor}-{database}.sql"


def secondary_indexes(tables=BULK_TABLES, *, partial: bool = True) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the tables' indexes that no constraint owns; without
    the partial ones (… WHERE …) when `partial` is false."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname) ORDER BY i.tablename, i.indexname",
                [list(tables)],
            )
        else:
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) ORDER BY tbl_name, name",
                list(tables),
            )
        rows = list(cursor.fetchall())
    return rows if partial else [(name, sql) for name, sql in rows if " WHERE " not in sql.upper()]


def restore_indexes(progress: Callable[[str], None] | None = None) -> int:
    """Build the indexes a stopped load left dropped; returns how many."""
    path = _index_file()
    if not path.exists():
        return 0
    statements = [line for line in path.read_text().splitlines() if line.strip()]
    with connection.cursor() as cursor, _ddl_allowed(cursor):
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for sql in statements:
            if progress:
                progress(sql)
            cursor.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
    path.unlink()
    return len(statements)


class _ddl_allowed:
    """PostgreSQL refuses to change a table's indexes while the transaction holds deferred
    foreign-key checks on it (a load inside a caller's transaction, e.g. a test): run them now."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.active = connection.vendor == "postgresql" and connection.in_atomic_block

    def __enter__(self):
        if self.active:
            self.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return self

    def __exit__(self, *exc):
        if self.active and exc[0] is None:
            self.cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return False


class _secondary_indexes_dropped:
    """Drop the case tables' secondary indexes for a load; build them again after, even on error."""

    def __init__(self, rebuild: Callable[[str], None] | None):
        self.rebuild = rebuild

    def __enter__(self):
        restore_indexes(self.rebuild)
        # The partial indexes (open cases) stay: the loaded cases are mostly closed, so keeping
        # them costs little, and PostgreSQL writes a rebuilt one's predicate back differently
        # (status IN (…) comes back as = ANY (ARRAY[…])).
        indexes = secondary_indexes(partial=False)
        path = _index_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(sql + "\n" for _name, sql in indexes))
        qn = connection.ops.quote_name
        with connection.cursor() as cursor, _ddl_allowed(cursor):
            for name, _sql in indexes:
                cursor.execute(f"DROP INDEX {qn(name)}")
        return self

    def __exit__(self, *exc):
        restore_indexes(self.rebuild)
        return False


def _stage_rows(table: str, columns: str, rows: list) -> None:
    """Rows into a staging table: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


class Numbering:
    """Case ids, event ids and numbers per county and year, given here so rows can name each other."""

    def __init__(self, counties: list[County]):
        self.counties = counties
        self.next_id = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.next_event_id = (CaseEvent.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.sequences = {(q.county_code, q.year): q.last for q in CaseNumberSequence.objects.all()}
        self.touched: set[tuple[str, int]] = set()
        # Per county: template index -> (case id, number), for the duplicates of recent cases.
        self.placed: list[dict[int, tuple[int, str]]] = [{} for _ in counties]

    def pick(self, k: int, tmpl: int, year: int, events: int, original: int | None) -> tuple:
        code = self.counties[k].code
        seq = self.sequences.get((code, year), 0) + 1
        self.sequences[code, year] = seq
        self.touched.add((code, year))
        case_id, number = self.next_id, f"{code}-{year}-{seq:06d}"
        self.next_id += 1
        first_event = self.next_event_id
        self.next_event_id += events
        self.placed[k][tmpl] = (case_id, number)
        dup = self.placed[k].get(original) if original is not None else None
        return (k, tmpl, case_id, number, first_event, dup[0] if dup else None, dup[1] if dup else None)

    def take_sequences(self) -> dict[tuple[str, int], int]:
        """The sequences moved since the last call, to be saved with the chunk."""
        moved = {key: self.sequences[key] for key in self.touched}
        self.touched.clear()
        return moved

    def forget_before(self, tmpl: int) -> None:
        """Duplicates name cases of the last weeks: older templates need no lookup."""
        for placed in self.placed:
            for key in [i for i in placed if i < tmpl]:
                del placed[key]

    def finish(self) -> None:
        # Ids were given here, not by the database: move PostgreSQL's sequences past them.
        for sql in connection.ops.sequence_reset_sql(no_style(), [Case, CaseStage, CaseEvent, Attachment, Rating]):
            with connection.cursor() as cursor:
                cursor.execute(sql)


#
# The whole load
#


def _vacuum_analyze(progress: Callable[[str], None] | None) -> None:
    """PostgreSQL, after a load: planner statistics for the new rows now, not whenever
    autovacuum gets to them — after a 10,000,000-case load, with none, the facts' rebuild
    planned a full scan of the 75 million events for each chunk. VACUUM too (outside a
    transaction): it sets the visibility map, without which a tab count's index-only scan
    visits the table for every entry, and it does now what autovacuum would otherwise start on
    150 million new rows during the first hours' work. (SQLite: the queries are written for its
    planner without statistics; see docs/evaluation.md.)"""
    if connection.vendor != "postgresql":
        return
    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in BULK_TABLES:
            if progress:
                progress(f"{verb} {table}")
            cursor.execute(f"{verb} {connection.ops.quote_name(table)}")


@dataclass
class BulkSummary:
    cases: int
    rows: int
    counties: int
    templates: int
    seconds: float


def bulk_load(
    *,
    cases: int,
    counties: int = 1,
    seed: int,
    photos: bool = True,
    progress: Callable[[int, int], None] | None = None,
    progress_rebuild: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> BulkSummary:
    """Write `cases` cases spread over `counties` counties (the demo county and copies of it).

    The case tables' secondary indexes are dropped for the load and built again at the end
    (`progress_rebuild` is told each one): maintaining some forty b-trees row by row made the
    load several times slower than writing the rows, and building an index from sorted data
    is much faster than inserting into it. If the load stops half-way, the next `load_cases`
    (or `load_cases --restore-indexes`) builds them first, from the definitions kept in
    VAR_DIR/bulk-indexes-<engine>-<database>.sql.
    """
    from civicgrid.cases.services import cases_mark_overdue

    started = time.monotonic()
    if photos:
        from civicgrid.cases.demo_photos import photo_pool

        photo_pool()
    with transaction.atomic():
        world = World(seed=seed, county=base_county().code)
        world.ensure_handlers()  # before the copies: they copy the handlers too
    places = county_copies(counties)
    share = 1.0 if counties == 1 else COUNTY_SHARE
    templates = math.ceil(cases / counties / share)
    quotas = [cases // counties + (1 if k < cases % counties else 0) for k in range(counties)]
    taken = [0] * counties
    rng = random.Random(f"{seed}/counties")
    generator = HistoryGenerator(world, seed=seed, now=now)
    numbering = Numbering(places)
    done = 0
    templates_rows = Templates(photos=photos)
    with _secondary_indexes_dropped(rebuild=progress_rebuild):
        writer = _ChunkWriter(places, cases, progress)
        writer.start()
        try:
            for sims in generator.cases(templates, chunk=TEMPLATE_CHUNK):
                base = done
                facts = []
                for i, sim in enumerate(sims):
                    year, events = templates_rows.add(base + i, sim)
                    facts.append((year, events, templates_rows.original(sim)))
                done += len(sims)
                picks: list[tuple[int, int]] = []  # (template index, county)
                for k in range(counties):
                    want = round(quotas[k] * min(done, templates) / templates) - taken[k]
                    want = max(0, min(want, len(sims)))
                    chosen = range(len(sims)) if want == len(sims) else rng.sample(range(len(sims)), want)
                    picks.extend((base + i, k) for i in chosen)
                    taken[k] += want
                picks.sort()  # report order across counties: ids rise with time as on a live platform
                rows_picked = [numbering.pick(k, t, *facts[t - base]) for t, k in picks]
                writer.put((templates_rows.take(), rows_picked, numbering.take_sequences()))
                numbering.forget_before(done - 20 * TEMPLATE_CHUNK)
        finally:
            writer.put(None)
            writer.join()
        if writer.error is not None:
            raise writer.error
        written, rows = writer.written, writer.rows
    numbering.finish()
    cases_mark_overdue(generator.now)
    _vacuum_analyze(progress_rebuild)
    return BulkSummary(written, rows, counties, done, time.monotonic() - started)


class _ChunkWriter(threading.Thread):
    """Writes the chunks on its own connection while the simulator plays the next one.

    The simulator is Python on one core, the INSERT … SELECT is PostgreSQL on the other: with
    one chunk in hand between them (a queue of one), both cores work.
    """

    def __init__(self, counties: list[County], total: int, progress: Callable[[int, int], None] | None):
        super().__init__(name="bulk-writer", daemon=True)
        # Inside a transaction (a test, a caller's atomic block) another connection would not
        # see its rows: then the chunks are written here, one after the other.
        self.threaded = not connection.in_atomic_block
        self.counties, self.total, self.progress = counties, total, progress
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.written = self.rows = 0

    def put(self, item) -> None:
        if not self.threaded:
            if item is not None and self.error is None:
                try:
                    self._write(item)
                except BaseException as exc:
                    self.error = exc
            return
        while self.is_alive():
            try:
                self.queue.put(item, timeout=1)
                return
            except queue.Full:
                continue

    def start(self) -> None:
        if self.threaded:
            super().start()
        else:
            self.stager = Stager(self.counties)

    def join(self, timeout: float | None = None) -> None:
        if self.threaded:
            super().join(timeout)
        else:
            self.stager.drop()

    def _write(self, item) -> None:
        rows, picks, sequences = item
        with transaction.atomic():
            self.rows += self.stager.stamp(rows, picks)
            for (code, year), last in sequences.items():
                CaseNumberSequence.objects.update_or_create(county_code=code, year=year, defaults={"last": last})
        self.written += len(picks)
        if self.progress:
            self.progress(self.written, self.total)

    def run(self) -> None:
        try:
            with _bulk_session():
                self.stager = Stager(self.counties)
                while (item := self.queue.get()) is not None:
                    self._write(item)
                self.stager.drop()
        except BaseException as exc:  # handed to the main thread, which raises it
            self.error = exc
            while self.queue.get() is not None:  # let the producer finish putting
                pass
        finally:
            connection.close()


class _bulk_session:
    """PostgreSQL session settings for a load: asynchronous commit; FK triggers off if allowed."""

    def __enter__(self):
        self.replica = False
        if connection.vendor != "postgresql":
            return self
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET session_replication_role = replica")
                self.replica = True
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
                if self.replica:
                    cursor.execute("RESET session_replication_role")
        return False


class ProgressBar:
    """One line, redrawn: done/total, rate, time spent and time left."""

    def __init__(self, write: Callable[[str], None] | None = None, label: str = "件", width: int = 30):
        self.write = write or (lambda text: (sys.stdout.write(text), sys.stdout.flush()))
        self.width, self.label = width, label
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = done / elapsed
        filled = round(self.width * done / total) if total else self.width
        left = (total - done) / rate if rate else 0
        bar = "█" * filled + "░" * (self.width - filled)
        self.write(
            f"\r  {bar} {100 * done / total:5.1f}%  {done:,}/{total:,} {self.label}  "
            f"{rate:,.0f} {self.label}/秒  已用 {_clock(elapsed)}  剩余 {_clock(left)} "
            + ("\n" if done >= total else "")
        )


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
