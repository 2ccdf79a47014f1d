"""`manage.py check_deploy`: does this deployment's environment reach every server it names?

Run after installing or changing the environment file (docs/deploy.md). Each check answers
ok, warn (works, but not as production should) or fail; any fail exits with status 1.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


def check_database(alias: str = "default") -> Check:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return Check(alias, FAIL, f"unreachable: {exc}".strip()[:300])
    vendor = connection.vendor
    if alias != "default":
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_is_in_recovery()")
                standby = cursor.fetchone()[0]
            if not standby:
                return Check(alias, WARN, "answers, but is not a standby (pg_is_in_recovery() is false)")
        return Check(alias, OK, f"{vendor}, standby")
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return Check(alias, FAIL, f"{vendor}: {len(pending)} migrations not applied (manage.py migrate)")
    if vendor == "sqlite":
        return Check(alias, WARN, "SQLite: the embedded default; production runs on PostgreSQL (DATABASE_URL)")
    return Check(alias, OK, f"{vendor}, migrations applied")


def check_storage() -> Check:
    backend = settings.STORAGES["default"]["BACKEND"].rsplit(".", 1)[-1]
    name = f"deploy-check/{uuid.uuid4().hex}.txt"
    try:
        saved = default_storage.save(name, ContentFile(b"civicgrid"))
        try:
            with default_storage.open(saved, "rb") as handle:
                if handle.read() != b"civicgrid":
                    return Check("storage", FAIL, f"{backend}: read back other bytes than were written")
        finally:
            default_storage.delete(saved)
    except Exception as exc:
        return Check("storage", FAIL, f"{backend}: {type(exc).__name__}: {exc}"[:300])
    options = settings.STORAGES["default"].get("OPTIONS", {})
    where = options.get("bucket_name") or str(settings.MEDIA_ROOT)
    return Check("storage", OK, f"{backend} ({where}): wrote, read and deleted a file")


def check_broker() -> Check:
    if not settings.CELERY_BROKER_URL:
        return Check("broker", OK, "none: the jobs run beside the web server (CIVICGRID_EMBEDDED_JOBS)")
    from civicgrid.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
            where = connection.as_uri()
    except Exception as exc:
        return Check("broker", FAIL, f"unreachable: {type(exc).__name__}: {exc}"[:300])
    return Check("broker", OK, f"{where} answers; start bin/worker and one bin/beat")


def check_static() -> Check:
    if (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        return Check("static", OK, f"{settings.STATIC_ROOT}: collected, hashed names")
    return Check("static", WARN, f"no manifest in {settings.STATIC_ROOT}: run manage.py collectstatic")


def check_settings() -> Check:
    problems = []
    if settings.DEBUG:
        problems.append("DEBUG is on")
    if settings.DEMO_MODE:
        problems.append("demo mode is on (CIVICGRID_DEMO)")
    if set(settings.ALLOWED_HOSTS) <= {"127.0.0.1", "localhost", "[::1]"}:
        problems.append("ALLOWED_HOSTS has only local names")
    if problems:
        return Check("settings", WARN, "; ".join(problems))
    return Check("settings", OK, "DEBUG off, demo off, ALLOWED_HOSTS set")


def run_checks() -> list[Check]:
    checks = [check_database()]
    if "replica" in settings.DATABASES:
        checks.append(check_database("replica"))
    checks += [check_storage(), check_broker(), check_static(), check_settings()]
    return checks
