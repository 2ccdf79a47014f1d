"""Optional read-replica routing: dashboards and evaluation read from a PostgreSQL standby.

Off unless CIVICGRID_READ_REPLICA_URL is set (civicgrid/settings.py then adds the `replica`
database, this router and this middleware). Routing is opt-in per request, never global:

- `ReplicaMiddleware` marks GET and HEAD requests under CIVICGRID_READ_REPLICA_PATHS
  (evaluation and the leaders' screens: long aggregate queries that may be a few seconds old);
- code elsewhere (a report job, an export) can wrap a block in `reading_replica()`.

Inside a marked block the router sends reads to `replica`, except reads that must see the
latest write: sessions, users and tokens (a login that has not replicated yet must not log
the user out), and every read inside a transaction on `default` (select_for_update, a
service's read-modify-write). Writes always go to `default`. See docs/deploy.md, "Growing".
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_use_replica: ContextVar[bool] = ContextVar("civicgrid_use_replica", default=False)

# Read from the primary always: what a user has just written must be visible to them.
PRIMARY_ONLY_APPS = {"sessions", "auth", "authtoken", "contenttypes", "admin"}


@contextmanager
def reading_replica():
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        # Installed only with CIVICGRID_READ_REPLICA_URL (settings), so `replica` exists.
        if not _use_replica.get():
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS or model._meta.label == settings.AUTH_USER_MODEL:
            return None
        if connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a physical copy of the primary: the same rows on both.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Migrations run on the primary and reach the standby by replication.
        return db == "default"


class ReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "CIVICGRID_READ_REPLICA_PATHS", ()))

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and self.prefixes and request.path.startswith(self.prefixes):
            with reading_replica():
                return self.get_response(request)
        return self.get_response(request)
