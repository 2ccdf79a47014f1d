"""`insert(obj)`: INSERT one new model instance, as `obj.save(force_insert=True)` would, with
its SQL built once per model and process.

Model.save() compiles a fresh INSERT for every call (a query object, a compiler, quoting each
column), which was a third of the time of a report through the API. This does the same write
— every concrete field's `pre_save` (defaults, auto_now) and `get_db_prep_save` (JSON,
datetimes, decimals) on the same connection, the primary key read back with RETURNING — but
sends no pre_save/post_save signals: use it only for models nobody listens to (today the
cases' own rows: Case, CaseStage, CaseEvent; civicgrid.audit tracks reference data only).
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Model

_sql: dict[tuple[str, type[Model]], tuple[str, list]] = {}


def _statement(model: type[Model], vendor: str, quote) -> tuple[str, list]:
    key = (vendor, model)
    if key not in _sql:
        meta = model._meta
        fields = [
            f for f in meta.concrete_fields if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        _sql[key] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}) RETURNING {quote(meta.pk.column)}",
            fields,
        )
    return _sql[key]


def insert(obj: Model) -> Model:
    using = router.db_for_write(type(obj), instance=obj)
    connection = connections[using]
    sql, fields = _statement(type(obj), connection.vendor, connection.ops.quote_name)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using
    return obj
