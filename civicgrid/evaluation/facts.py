"""The evaluation's pre-aggregation (EvaluationFact): built from the case history, kept exact.

One row per history event that enters an evaluation (RELEVANT actions) holds the instants of
what followed it in the case's history (see models.EvaluationFact). Indicators then read a
period's flags as `instant < end` from this one table instead of joining every cohort event
with its case's events and stage runs: at 1,000,000 cases that join is what took seconds.

Exactness: the rows of a case depend only on the case's own events and stage runs, and both
change only together with a new CaseEvent (cases.services writes the event in the same
transaction as the stage clock it moves; events are append-only). `refresh()` — called by
every indicator function before it reads — compares the highest CaseEvent id with the one
recorded at the last refresh and, when there are new events, rebuilds the rows of the cases
they belong to (delete + INSERT … SELECT, one transaction). With nothing new it costs one
query. `rebuild()` (command `rebuild_evaluation`) rebuilds everything in chunks of cases.

PostgreSQL caveat: a transaction that took an event id before a refresh but commits after it
is seen by the next refresh only through REFRESH_OVERLAP (the cases of events of the last
minutes are rebuilt again whenever there are new events); a bulk load running *during* an
evaluation should be followed by `rebuild_evaluation`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import CharField, DateTimeField, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from civicgrid.cases.bulk import secondary_indexes
from civicgrid.cases.models import Case, CaseEvent, CaseStage, Rating, ResolutionMode
from civicgrid.cases.workflow import Action
from civicgrid.catalog.models import Stage
from civicgrid.evaluation.models import EvaluationFact, EvaluationFactState

# The events cases.services.case_rate writes with each Rating (its `event`).
RATING_ACTIONS = ("rate", Action.DISSATISFIED)
# Events that enter some evaluation (as a cohort row or a flow).
RELEVANT = (
    "report",
    Action.FILE,
    Action.APPROVE_SELF_HANDLED,
    Action.DISPATCH,
    Action.REOPEN,
    Action.VERIFY_CONFIRM,
    Action.VERIFY_DENY,
    Action.CHECK_PASS,
    Action.CHECK_FAIL,
    Action.REJECT,
    Action.CLOSE,
    # The units' handling time (indicators.unit_rows) and the ratings (satisfaction_rows).
    Action.HANDLED,
    *RATING_ACTIONS,
)
# The stage run an event ends, for `late` (indicators._late_run).
LATE_STAGE = {
    Action.VERIFY_CONFIRM: Stage.VERIFY,
    Action.VERIFY_DENY: Stage.VERIFY,
    Action.CHECK_PASS: Stage.CHECK,
    Action.CHECK_FAIL: Stage.CHECK,
    Action.FILE: Stage.FILE,
    Action.REJECT: Stage.FILE,
    Action.CLOSE: Stage.CLOSE,
    Action.DISPATCH: Stage.DISPATCH,
}
# Instants read from the case's events: column → (actions, since) as indicators.Later:
# "ever" any time, "from" at or after the row's event, "after" strictly after it.
INSTANTS = {
    "void_ever": ((Action.APPROVE_VOID,), "ever"),
    "void_after": ((Action.APPROVE_VOID,), "after"),
    "deferral_ever": ((Action.APPROVE_DEFERRAL,), "ever"),
    "deferral_from": ((Action.APPROVE_DEFERRAL,), "from"),
    "closed_from": ((Action.CLOSE, Action.APPROVE_SELF_HANDLED), "from"),
    "close_from": ((Action.CLOSE,), "from"),
    "return_from": ((Action.APPROVE_RETURN,), "from"),
    "return_after": ((Action.APPROVE_RETURN,), "after"),
    "handled_from": ((Action.HANDLED,), "from"),
    "check_fail_from": ((Action.CHECK_FAIL,), "from"),
    "check_fail_after": ((Action.CHECK_FAIL,), "after"),
    "extension_from": ((Action.APPROVE_EXTENSION,), "from"),
    "valid_ever": ((Action.FILE, Action.APPROVE_SELF_HANDLED), "ever"),
    "file_ever": ((Action.FILE,), "ever"),
}
BASE_COLUMNS = (
    "event_id",
    "case_id",
    "action",
    "at",
    "actor_id",
    "actor_role",
    "grid_id",
    "region_code",
    "public",
    "unit_key",
    "mode",
    "handled_by",
    "run_started",
    "satisfaction",
    "source",
)
RUN_COLUMNS = ("overdue", "overdue_unit", "late")
CHUNK_CASES = 20_000
# Connections that write a PostgreSQL rebuild side by side: one per core of this project's machine.
REBUILD_WORKERS = 2
# On PostgreSQL an event id can become visible after a higher one (transactions commit out of
# order): each refresh that finds new events also rebuilds the cases of the last minutes' events.
REFRESH_OVERLAP = timedelta(minutes=10)


def _inner(case_filter: Q):
    """The relevant events of the cases in `case_filter`, with the case's grid, region,
    channel, the receiving unit of a dispatch and a closure's mode and handling unit — the
    same expressions as indicators (KT, Cast, Subquery), so the same SQL on each backend."""
    from civicgrid.evaluation.indicators import PUBLIC_CHANNELS, _case_events, _case_stages, _int

    handled = _case_events(Action.HANDLED).filter(when__lte=OuterRef("at"))
    is_close = Q(action=Action.CLOSE)
    is_handled = Q(action=Action.HANDLED)
    is_rating = Q(action__in=RATING_ACTIONS)
    # The handling run a 处置反馈 ended, as indicators.unit_rows counts runs: of a unit, ended
    # at this instant by the start of a 核查.
    run = (
        _case_stages(Stage.HANDLE)
        .filter(ended_at=OuterRef("at"), unit__isnull=False)
        .filter(Exists(_case_stages(Stage.CHECK).filter(started_at=OuterRef("ended_at"))))
        .order_by("started_at", "id")
    )
    rating = Rating.objects.filter(event_id=OuterRef("id")).order_by("id")
    # The action is wrapped (COALESCE) so that the planner reads the cases' events through the
    # case_id index: SQLite chose the (action, at) index and read every relevant event of the
    # database for each chunk (a refresh of 50 cases took 7 s at 1,000,000 cases).
    return (
        CaseEvent.objects.alias(act=Coalesce("action", Value("")))
        .filter(case_filter, act__in=[str(action) for action in RELEVANT])
        .order_by()
        .annotate(
            grid_key=F("case__grid_id"),
            region=F("case__region_code"),
            is_public=_int(Q(case__channel__in=PUBLIC_CHANNELS)),
            unit_to=SqlCase(
                When(Q(action__in=(Action.DISPATCH, Action.REOPEN)), then=Cast(KT("data__unit__id"), IntegerField())),
                When(is_handled, then=Subquery(run.values("unit_id")[:1])),
                When(is_rating, then=Subquery(rating.values("unit_id")[:1])),
                default=None,
                output_field=IntegerField(),
            ),
            run_started=SqlCase(
                When(is_handled, then=Subquery(run.values("started_at")[:1])),
                default=None,
                output_field=DateTimeField(),
            ),
            rating_level=SqlCase(
                When(is_rating, then=Coalesce(Subquery(rating.values("satisfaction")[:1]), Value(""))),
                default=Value(""),
                output_field=CharField(),
            ),
            rating_source=SqlCase(
                When(is_rating, then=Coalesce(Subquery(rating.values("source")[:1]), Value(""))),
                default=Value(""),
                output_field=CharField(),
            ),
            close_mode=SqlCase(
                When(
                    is_close,
                    then=Coalesce(
                        Subquery(
                            handled.filter(data__has_key="resolution_mode")
                            .order_by("-at", "-id")
                            .annotate(mode=KT("data__resolution_mode"))
                            .values("mode")[:1]
                        ),
                        Value(ResolutionMode.SERVICE.value),
                        output_field=CharField(),
                    ),
                ),
                default=Value(""),
                output_field=CharField(),
            ),
            handled_unit=SqlCase(
                When(is_close, then=Subquery(handled.order_by("-at", "-id").values("unit_id")[:1])),
                default=None,
                output_field=IntegerField(),
            ),
        )
        .values(
            "id",
            "case_id",
            "action",
            "at",
            "actor_id",
            "actor_role",
            "grid_key",
            "region",
            "is_public",
            "unit_to",
            "close_mode",
            "handled_unit",
            "run_started",
            "rating_level",
            "rating_source",
        )
    )


def _insert_sql(
    case_filter: Q, table: str = EvaluationFact._meta.db_table, case_range: tuple[int, int] | None = None
) -> tuple[str, list]:
    """INSERT … SELECT of the facts of the cases in `case_filter` (into `table`); `case_range`
    (low, high), when the filter is that range of case ids, bounds the join of the cases' events
    too."""
    inner_sql, inner_params = _inner(case_filter).query.sql_with_params()
    event_table, stage_table = CaseEvent._meta.db_table, CaseStage._meta.db_table
    d_columns = ["id", "case_id", "action", "at", "actor_id", "actor_role", "grid_key", "region", "is_public"]
    d_columns += ["unit_to", "close_mode", "handled_unit", "run_started", "rating_level", "rating_source"]
    kept = ", ".join(f"d.{c}" for c in d_columns)
    minimums, select_params = [], []
    for name, (actions, since) in INSTANTS.items():
        marks = ", ".join(["%s"] * len(actions))
        bound = {"from": " AND e.at >= d.at", "after": " AND e.at > d.at"}.get(since, "")
        minimums.append(f"MIN(CASE WHEN e.action IN ({marks}){bound} THEN e.at END) AS {name}")
        select_params += [str(a) for a in actions]
    joined = sorted({str(a) for actions, _since in INSTANTS.values() for a in actions})
    # The range repeated on e: the planner does not carry d's range over the equality, and
    # with it alone PostgreSQL hashed every flag event of the table (3.4 million of 75 million
    # at 10,000,000 cases, read by a full scan) for each chunk of 20,000 cases.
    in_range = " AND e.case_id >= %s AND e.case_id < %s" if case_range else ""
    grouped = (
        f"SELECT {kept}, {', '.join(minimums)} FROM ({inner_sql}) d"
        f" LEFT JOIN {event_table} e ON e.case_id = d.case_id{in_range}"
        f" AND COALESCE(e.action, '') IN ({', '.join(['%s'] * len(joined))})"
        f" GROUP BY {kept}"
    )
    grouped_params = select_params + list(inner_params) + list(case_range or ()) + joined
    # Stage runs: correlated subqueries through the case_id index (COALESCE: see
    # indicators._case_events); the conditions are indicators._overdue_run and _late_run.
    overdue = (
        f"SELECT MIN(s.deadline) FROM {stage_table} s WHERE s.case_id = g.case_id"
        " AND COALESCE(s.stage, '') = %s AND s.started_at >= g.at AND s.deadline IS NOT NULL"
        " AND (s.ended_at IS NULL OR s.ended_at > s.deadline)"
        " AND (s.paused_since IS NULL OR s.deadline < s.paused_since)"
    )
    overdue_unit = overdue + " AND COALESCE(s.unit_id, 0) = g.unit_to"  # not the unit_id index
    late_cases = " ".join(["WHEN %s THEN %s"] * len(LATE_STAGE))
    late = (
        f"CASE WHEN EXISTS (SELECT 1 FROM {stage_table} s WHERE s.case_id = g.case_id"
        f" AND COALESCE(s.stage, '') = (CASE g.action {late_cases} ELSE '' END)"
        " AND s.ended_at = g.at AND s.on_time = %s) THEN %s ELSE %s END"
    )
    late_params = [str(x) for item in LATE_STAGE.items() for x in item] + [False, True, False]
    instants = ", ".join(f"g.{name}" for name in INSTANTS)
    sql = (
        f"INSERT INTO {table}"
        f" ({', '.join(BASE_COLUMNS)}, {', '.join(INSTANTS)}, {', '.join(RUN_COLUMNS)})"
        f" SELECT g.id, g.case_id, g.action, g.at, g.actor_id, COALESCE(g.actor_role, ''), g.grid_key,"
        f" COALESCE(g.region, ''), CASE WHEN g.is_public = 1 THEN %s ELSE %s END, g.unit_to,"
        f" COALESCE(g.close_mode, ''), g.handled_unit, g.run_started, g.rating_level, g.rating_source, {instants},"
        f" ({overdue}),"
        f" CASE WHEN g.unit_to IS NULL THEN NULL ELSE ({overdue_unit}) END,"
        f" {late}"
        # Written in (county, action, at) order: a county's period of one action lies together on
        # disk, so the evaluation's index scans read few pages. (In (action, at) order the ten
        # counties' rows of an action were interleaved: a county's month of reports at 10,000,000
        # cases read 17,400 pages for its 72,600 rows; ordered by county too, 1,800.)
        f" FROM ({grouped}) g ORDER BY SUBSTR(COALESCE(g.region, ''), 1, 6), g.action, g.at"
    )
    handle = Stage.HANDLE.value
    params = [True, False, handle, handle, *late_params, *grouped_params]
    return sql, params


def _state() -> EvaluationFactState:
    state, _created = EvaluationFactState.objects.using("default").get_or_create(pk=1)
    return state


def _last_event_id() -> int:
    return CaseEvent.objects.using("default").order_by("-id").values_list("id", flat=True).first() or 0


def rebuild(progress: Callable[[int, int], None] | None = None, workers: int = REBUILD_WORKERS) -> int:
    """Rebuild every fact from the history; the number of rows.

    PostgreSQL, outside a transaction: into a new table on `workers` connections at once, its
    indexes built after, then swapped for the old one in one short transaction (readers see
    the old facts until then). Otherwise in one transaction, the indexes dropped meanwhile.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block and workers > 1:
        return _rebuild_beside(progress, workers)
    started = timezone.now()
    table = EvaluationFact._meta.db_table
    with transaction.atomic(using="default"):
        EvaluationFactState.objects.using("default").select_for_update().get_or_create(pk=1)
        last = _last_event_id()
        indexes = secondary_indexes([table])
        with connection.cursor() as cursor:
            # PostgreSQL: TRUNCATE, not DELETE — five million dead rows left in the table and its
            # index made the next evaluations twice as slow until a VACUUM.
            verb = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
            cursor.execute(f"{verb} {table}")
            # Building an index once from the rows is several times cheaper than keeping it
            # up to date row by row.
            for name, _sql in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            done = 0
            for size, total, sql, params in _chunks(table):
                cursor.execute(sql, params)
                done += size
                if progress:
                    progress(done, total)
            for _name, sql in indexes:
                cursor.execute(sql)
        EvaluationFactState.objects.using("default").filter(pk=1).update(last_event_id=last, built_at=started)
    _analyze()
    return EvaluationFact.objects.using("default").count()


def _chunks(table: str):
    """(case ids in it, case ids in all, INSERT … SELECT) per chunk of CHUNK_CASES case ids."""
    bounds = Case.objects.using("default").order_by("id").values_list("id", flat=True)
    first, final = bounds.first(), bounds.last()
    if first is None:
        return
    for low in range(first, final + 1, CHUNK_CASES):
        high = low + CHUNK_CASES
        sql, params = _insert_sql(Q(case_id__gte=low, case_id__lt=high), table, case_range=(low, high))
        yield min(low + CHUNK_CASES, final + 1) - low, final + 1 - first, sql, params


def _rebuild_beside(progress: Callable[[int, int], None] | None, workers: int) -> int:
    """PostgreSQL: build the facts into a new table with several connections, then swap it in.

    One INSERT … SELECT runs on one core: at 10,000,000 cases a rebuild in one transaction took
    about two hours on this project's 2-core machine. The chunks are independent (a case's facts
    depend on that case alone), so `workers` connections write them side by side. Events that
    arrive meanwhile are after `last`: the next refresh() rebuilds their cases.
    """
    table = EvaluationFact._meta.db_table
    shadow = f"{table}_rebuild"
    qn = connection.ops.quote_name
    started = timezone.now()
    last = _last_event_id()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {qn(shadow)}")
        cursor.execute(f"CREATE TABLE {qn(shadow)} (LIKE {qn(table)} INCLUDING ALL EXCLUDING INDEXES)")
    chunks = queue.Queue()
    for chunk in _chunks(shadow):
        chunks.put(chunk)
    lock = threading.Lock()
    errors: list[BaseException] = []
    done = 0

    def work() -> None:
        nonlocal done
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                # Compiling each chunk's plan (some 120 functions) cost more than it saved.
                cursor.execute("SET jit = off")
                while not errors:
                    try:
                        size, total, sql, params = chunks.get_nowait()
                    except queue.Empty:
                        return
                    cursor.execute(sql, params)
                    with lock:
                        done += size
                        if progress:
                            progress(done, total)
        except BaseException as exc:  # raised again by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, name=f"facts-{k}", daemon=True) for k in range(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        indexes = secondary_indexes([table])
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute(f"ALTER TABLE {qn(shadow)} ADD CONSTRAINT {qn(shadow + '_pkey')} PRIMARY KEY (event_id)")
            for name, sql in indexes:
                # pg_indexes' form: CREATE [UNIQUE] INDEX name ON schema.table USING method (…)
                verb, rest = sql.split(" INDEX ", 1)
                cursor.execute(f"{verb} INDEX {qn(name + '_new')} ON {qn(shadow)} USING {rest.split(' USING ', 1)[1]}")
        with transaction.atomic(using="default"):
            EvaluationFactState.objects.using("default").select_for_update().get_or_create(pk=1)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [table]
                )
                primary = cursor.fetchone()[0]
                cursor.execute(f"DROP TABLE {qn(table)}")
                cursor.execute(f"ALTER TABLE {qn(shadow)} RENAME TO {qn(table)}")
                cursor.execute(f"ALTER TABLE {qn(table)} RENAME CONSTRAINT {qn(shadow + '_pkey')} TO {qn(primary)}")
                for name, _sql in indexes:
                    cursor.execute(f"ALTER INDEX {qn(name + '_new')} RENAME TO {qn(name)}")
            EvaluationFactState.objects.using("default").filter(pk=1).update(last_event_id=last, built_at=started)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {qn(shadow)}")
    _analyze()
    return EvaluationFact.objects.using("default").count()


def _analyze() -> None:
    """PostgreSQL: planner statistics and the visibility map for the new rows (VACUUM sets the
    hint bits the first evaluations would otherwise write); SQLite's planner needs none here."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {EvaluationFact._meta.db_table}")


def refresh() -> None:
    """Bring the facts up to date with the history: one query when nothing is new."""
    table = EvaluationFactState._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {CaseEvent._meta.db_table}), (SELECT last_event_id FROM {table} WHERE id = 1)"
        )
        last, recorded = cursor.fetchone()
    if recorded is not None and (last or 0) == recorded:
        return
    if not recorded:
        rebuild()  # never built: the first evaluation of a database
        return
    now = timezone.now()
    with transaction.atomic(using="default"):
        state = EvaluationFactState.objects.using("default").select_for_update().get(pk=1)
        last = _last_event_id()
        if last == state.last_event_id:
            return
        changed = Q(id__gt=state.last_event_id)
        if connection.vendor == "postgresql" and state.built_at is not None:
            changed |= Q(at__gte=state.built_at - REFRESH_OVERLAP)
        cases = CaseEvent.objects.using("default").filter(changed, id__lte=last).values("case_id")
        with connection.cursor() as cursor:
            cases_sql, cases_params = cases.query.sql_with_params()
            cursor.execute(f"DELETE FROM {EvaluationFact._meta.db_table} WHERE case_id IN ({cases_sql})", cases_params)
            sql, params = _insert_sql(Q(case_id__in=cases))
            cursor.execute(sql, params)
        state.last_event_id, state.built_at = last, now
        state.save(update_fields=["last_event_id", "built_at"])
