"""Deployment settings: everything from the environment, and the embedded default needs no server.

Settings are read once per process, so the tests that change variables start a fresh Python
with `civicgrid.settings` loaded under a chosen environment.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings

from civicgrid.core import deploycheck, replica
from civicgrid.core.staticfiles import StaticFilesStorage
from civicgrid.core.storage import FILESYSTEM_BACKEND, S3_BACKEND, default_storage_config
from civicgrid.env import env_choice, env_secret

ROOT = Path(settings.BASE_DIR)
# Variables that would move the embedded default onto a server.
SERVER_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CIVICGRID_STORAGE",
    "CIVICGRID_READ_REPLICA_URL",
    "CIVICGRID_MEDIA_ACCEL_REDIRECT",
)

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "databases": sorted(settings.DATABASES),
    "storage": settings.STORAGES["default"]["BACKEND"],
    "static": settings.STORAGES["staticfiles"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "routers": settings.DATABASE_ROUTERS,
    "middleware": settings.MIDDLEWARE[0],
    "proxy_ssl": list(getattr(settings, "SECURE_PROXY_SSL_HEADER", None) or []),
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}).get("options"),
}))
"""


def settings_under(env: dict) -> dict:
    """civicgrid.settings as a fresh process sees it with these variables (and none of the server ones)."""
    base = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    var = tempfile.mkdtemp()
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        env={**base, "DJANGO_SETTINGS_MODULE": "civicgrid.settings", "CIVICGRID_VAR_DIR": var, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout)


class EmbeddedDefaultTests(SimpleTestCase):
    def test_it_needs_no_server(self):
        """No variables: SQLite in var/, uploads on the local disk, jobs without a broker."""
        seen = settings_under({})
        self.assertEqual(seen["engine"], "django.db.backends.sqlite3")
        self.assertEqual(seen["databases"], ["default"])
        self.assertEqual(seen["storage"], FILESYSTEM_BACKEND)
        self.assertEqual(seen["static"], "civicgrid.core.staticfiles.StaticFilesStorage")
        self.assertEqual((seen["eager"], seen["broker"]), (True, ""))
        self.assertEqual(seen["routers"], [])

    def test_a_deployment_is_configured_by_variables(self):
        seen = settings_under(
            {
                "DATABASE_URL": "postgres://civicgrid@127.0.0.1:5432/civicgrid",
                "CIVICGRID_READ_REPLICA_URL": "postgres://civicgrid@10.0.0.2:5432/civicgrid",
                "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
                "CIVICGRID_STORAGE": "s3",
                "CIVICGRID_S3_BUCKET": "civicgrid",
                "CIVICGRID_S3_ENDPOINT_URL": "http://127.0.0.1:8333",
                "SECURE_PROXY_SSL_HEADER": "true",
            }
        )
        self.assertEqual(seen["engine"], "django.db.backends.postgresql")
        self.assertEqual(seen["databases"], ["default", "replica"])
        self.assertEqual(seen["routers"], ["civicgrid.core.replica.ReplicaRouter"])
        self.assertEqual(seen["middleware"], "civicgrid.core.replica.ReplicaMiddleware")
        self.assertEqual(seen["storage"], S3_BACKEND)
        self.assertEqual((seen["eager"], seen["broker"]), (False, "redis://127.0.0.1:6379/0"))
        self.assertEqual(seen["proxy_ssl"], ["HTTP_X_FORWARDED_PROTO", "https"])
        # PostgreSQL's JIT off for every session; behind PgBouncer no startup options at all.
        self.assertEqual(seen["db_options"], "-c jit=off")
        behind_pgbouncer = settings_under(
            {"DATABASE_URL": "postgres://civicgrid@127.0.0.1:6432/civicgrid", "DB_OPTIONS": ""}
        )
        self.assertIsNone(behind_pgbouncer["db_options"])

    def test_it_refuses_settings_that_cannot_work_together(self):
        refused = settings_under(
            {"CIVICGRID_STORAGE": "s3", "CIVICGRID_S3_BUCKET": "b", "CIVICGRID_MEDIA_ACCEL_REDIRECT": "/protected/"}
        )
        self.assertIn("CIVICGRID_MEDIA_ACCEL_REDIRECT", refused["error"])
        self.assertIn("CIVICGRID_S3_BUCKET", settings_under({"CIVICGRID_STORAGE": "s3"})["error"])
        self.assertIn("CIVICGRID_STORAGE", settings_under({"CIVICGRID_STORAGE": "ftp"})["error"])
        refused = settings_under({"CIVICGRID_READ_REPLICA_URL": "postgres://h/db"})
        self.assertIn("CIVICGRID_READ_REPLICA_URL", refused["error"])


@unittest.skipUnless(connection.vendor == "postgresql", "the server's JIT is PostgreSQL's")
class DatabaseSessionTests(TestCase):
    def test_the_sessions_run_without_jit(self):
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            self.assertEqual(cursor.fetchone()[0], "off")


class StorageConfigTests(SimpleTestCase):
    def test_the_local_folder_is_the_default(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertEqual(default_storage_config(), {"BACKEND": FILESYSTEM_BACKEND})

    def test_s3_options_come_from_the_variables(self):
        secret = Path(tempfile.mkdtemp()) / "s3-secret"
        secret.write_text("from-a-file\n")
        env = {
            "CIVICGRID_STORAGE": "S3",
            "CIVICGRID_S3_BUCKET": "civicgrid-media",
            "CIVICGRID_S3_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com",
            "CIVICGRID_S3_ACCESS_KEY": "key",
            "CIVICGRID_S3_SECRET_KEY_FILE": str(secret),
            "CIVICGRID_S3_REGION": "cn-hangzhou",
            "CIVICGRID_S3_ADDRESSING_STYLE": "virtual",
            "CIVICGRID_S3_PREFIX": "/360725/",
        }
        with mock.patch.dict(os.environ, env, clear=True):
            config = default_storage_config()
        options = config["OPTIONS"]
        self.assertEqual(config["BACKEND"], S3_BACKEND)
        self.assertEqual(options["bucket_name"], "civicgrid-media")
        self.assertEqual(options["endpoint_url"], "https://oss-cn-hangzhou.aliyuncs.com")
        self.assertEqual((options["access_key"], options["secret_key"]), ("key", "from-a-file"))
        self.assertEqual((options["region_name"], options["addressing_style"]), ("cn-hangzhou", "virtual"))
        self.assertEqual(options["location"], "360725")
        config = options["client_config"]
        self.assertEqual(config.s3, {"addressing_style": "virtual"})
        self.assertEqual((config.connect_timeout, config.read_timeout), (5, 20))
        # Private objects; a second upload of the same photo never replaces the first.
        self.assertIsNone(options["default_acl"])
        self.assertIs(options["file_overwrite"], False)

    def test_without_keys_boto3_finds_its_own_credentials(self):
        with mock.patch.dict(os.environ, {"CIVICGRID_STORAGE": "s3", "CIVICGRID_S3_BUCKET": "b"}, clear=True):
            options = default_storage_config()["OPTIONS"]
        self.assertEqual((options["access_key"], options["secret_key"], options["endpoint_url"]), (None, None, None))

    def test_env_readers_refuse_unknown_values_and_unreadable_files(self):
        with mock.patch.dict(os.environ, {"X_MODE": "ftp"}), self.assertRaisesMessage(ImproperlyConfigured, "X_MODE"):
            env_choice("X_MODE", "a", ("a", "b"))
        with (
            mock.patch.dict(os.environ, {"X_SECRET_FILE": "/nonexistent/secret"}, clear=True),
            self.assertRaisesMessage(ImproperlyConfigured, "X_SECRET_FILE"),
        ):
            env_secret("X_SECRET")


class StaticFilesTests(SimpleTestCase):
    def test_it_links_hashed_names_from_the_manifest(self):
        root = Path(tempfile.mkdtemp())
        (root / "app.css").write_text("body{}")
        manifest = {"version": "1.1", "paths": {"app.css": "app.0123456789ab.css"}, "hash": "x"}
        (root / "staticfiles.json").write_text(json.dumps(manifest))
        storage = StaticFilesStorage(location=str(root), base_url="/static/")
        self.assertEqual(storage.url("app.css"), "/static/app.0123456789ab.css")
        # A file collected after the manifest was written keeps its plain name.
        self.assertEqual(storage.url("late.js"), "/static/late.js")

    def test_collectstatic_can_hash_every_file(self):
        """What `make run` and every upgrade run: a CSS url() or a source map naming a missing
        file fails here. (The hashing of StaticFilesStorage without its gzip step, which takes
        the most time and cannot fail on content.)"""
        root = Path(tempfile.mkdtemp())
        hashing = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
        with override_settings(STATIC_ROOT=str(root), STORAGES={**settings.STORAGES, "staticfiles": hashing}):
            call_command("collectstatic", interactive=False, verbosity=0)
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        hashed = paths["civicgrid/app.css"]
        self.assertRegex(hashed, r"^civicgrid/app\.[0-9a-f]{12}\.css$")
        self.assertTrue((root / hashed).exists())

    def test_without_collectstatic_pages_link_plain_names(self):
        storage = StaticFilesStorage(location=tempfile.mkdtemp(), base_url="/static/")
        self.assertEqual(storage.url("civicgrid/app.css"), "/static/civicgrid/app.css")


class ServeScriptTests(SimpleTestCase):
    def serve(self, **env) -> subprocess.CompletedProcess:
        unset = ("WEB_CONCURRENCY", "HOST", "PORT", "WEB_TIMEOUT")
        base = {k: v for k, v in os.environ.items() if k not in unset}
        return subprocess.run(
            ["bin/serve", "--print"], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=30
        )

    @unittest.skipUnless(hasattr(os, "sched_getaffinity"), "Linux: CPU affinity")
    def test_the_worker_count_follows_the_cpus(self):
        cpus = len(os.sched_getaffinity(0))
        quota = Path("/sys/fs/cgroup/cpu.max")
        if quota.exists() and quota.read_text().split()[0] != "max":
            limit, period = (int(x) for x in quota.read_text().split())
            cpus = min(cpus, -(-limit // period))
        command = self.serve().stdout.split()
        self.assertEqual(command[command.index("--workers") + 1], str(2 * cpus + 1))
        self.assertEqual(command[command.index("--bind") + 1], "127.0.0.1:8000")

    def test_variables_override_it(self):
        command = self.serve(WEB_CONCURRENCY="3", HOST="::1", PORT="9000", WEB_TIMEOUT="120").stdout.split()
        self.assertEqual(command[command.index("--workers") + 1], "3")
        self.assertEqual(command[command.index("--bind") + 1], "[::1]:9000")
        self.assertEqual(command[command.index("--timeout") + 1], "120")
        refused = self.serve(WEB_CONCURRENCY="lots")
        self.assertEqual(refused.returncode, 2)
        self.assertIn("WEB_CONCURRENCY", refused.stderr)

    def test_a_worker_imports_the_views_before_its_first_request(self):
        """gunicorn's post_worker_init hook: a new worker's first request does not wait for
        every view module to be imported (270 ms on the bench machine)."""
        script = (
            "import runpy, sys, django; django.setup(); "
            "before = 'civicgrid.open311.views' in sys.modules; "
            "runpy.run_path('gunicorn.conf.py')['post_worker_init'](None); "
            "print(before, 'civicgrid.open311.views' in sys.modules)"
        )
        base = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**base, "DJANGO_SETTINGS_MODULE": "civicgrid.settings", "CIVICGRID_VAR_DIR": tempfile.mkdtemp()},
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.stdout.split(), ["False", "True"], result.stderr[-500:])


class Model:
    """Just enough of a model's _meta for the router."""

    def __init__(self, label: str):
        app_label, _, name = label.partition(".")
        self._meta = mock.Mock(app_label=app_label, label=label)


class ReplicaRoutingTests(SimpleTestCase):
    router = replica.ReplicaRouter()

    def test_reads_go_to_the_primary_unless_asked(self):
        self.assertIsNone(self.router.db_for_read(Model("cases.Case")))
        with replica.reading_replica():
            self.assertEqual(self.router.db_for_read(Model("cases.Case")), "replica")
            self.assertEqual(self.router.db_for_read(Model("evaluation.Score")), "replica")
            self.assertEqual(self.router.db_for_write(Model("cases.Case")), "default")

    def test_logins_and_sessions_are_always_read_from_the_primary(self):
        with replica.reading_replica():
            for label in ("sessions.Session", "authtoken.Token", settings.AUTH_USER_MODEL):
                self.assertIsNone(self.router.db_for_read(Model(label)), label)

    def test_reads_inside_a_transaction_stay_on_the_primary(self):
        with replica.reading_replica(), mock.patch.object(replica, "connections") as connections:
            connections.__getitem__.return_value.in_atomic_block = True
            self.assertIsNone(self.router.db_for_read(Model("cases.Case")))

    def test_migrations_run_on_the_primary_only(self):
        self.assertIs(self.router.allow_migrate("default", "cases"), True)
        self.assertIs(self.router.allow_migrate("replica", "cases"), False)

    @override_settings(CIVICGRID_READ_REPLICA_PATHS=["/api/v1/evaluation/"])
    def test_the_middleware_marks_reads_of_the_listed_paths(self):
        seen = []

        def view(request):
            seen.append(replica._use_replica.get())
            return HttpResponse()

        middleware = replica.ReplicaMiddleware(view)
        factory = RequestFactory()
        middleware(factory.get("/api/v1/evaluation/scores/"))
        middleware(factory.post("/api/v1/evaluation/scores/"))
        middleware(factory.get("/api/v1/cases/"))
        self.assertEqual(seen, [True, False, False])
        self.assertIs(replica._use_replica.get(), False)


class ConfigurationDocsTests(SimpleTestCase):
    PYTHON_READS = re.compile(
        r'(?:env_(?:str|int|bool|list|choice|secret)\(\s*|getenv\(\s*|environ\.get\(\s*|environ\[\s*)"([A-Z][A-Z0-9_]*)"'
    )
    SHELL_READS = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")

    def variables_read(self) -> dict[str, str]:
        found = {}
        for path in [*(ROOT / "civicgrid").rglob("*.py"), ROOT / "gunicorn.conf.py", ROOT / "manage.py"]:
            for name in self.PYTHON_READS.findall(path.read_text()):
                found.setdefault(name, str(path.relative_to(ROOT)))
        for path in (ROOT / "bin").iterdir():
            pattern = self.PYTHON_READS if path.suffix == ".py" else self.SHELL_READS
            for name in pattern.findall(path.read_text()):
                found.setdefault(name, str(path.relative_to(ROOT)))
        return found

    def test_every_variable_the_code_reads_is_documented(self):
        documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", (ROOT / "docs" / "configuration.md").read_text()))
        read = self.variables_read()
        self.assertIn("CIVICGRID_S3_SECRET_KEY", read)  # the search itself works
        # PATH is the system's; X_* are the env readers' own test names.
        missing = {
            name: where
            for name, where in read.items()
            if name not in documented and name != "PATH" and not name.startswith("X_")
        }
        self.assertEqual(missing, {}, "read by the code but not in docs/configuration.md")


class CheckDeployTests(TestCase):
    def setUp(self):
        media = tempfile.mkdtemp()
        override = override_settings(MEDIA_ROOT=media)
        override.enable()
        self.addCleanup(override.disable)

    def test_it_reports_each_server_and_passes_on_the_embedded_default(self):
        out = io.StringIO()
        call_command("check_deploy", stdout=out)
        status = {}
        for line in out.getvalue().splitlines():
            state, name, _detail = line.split(None, 2)
            status[name] = state
        self.assertEqual((status["storage"], status["broker"]), ("ok", "ok"))
        on_postgresql = connection.vendor == "postgresql"
        self.assertEqual(status["default"], "ok" if on_postgresql else "warn")

    def test_it_fails_when_a_server_does_not_answer(self):
        with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
            from civicgrid.celery import app

            saved = app.conf.broker_url
            app.conf.broker_url = "redis://127.0.0.1:1/0"
            try:
                self.assertEqual(deploycheck.check_broker().status, deploycheck.FAIL)
                with self.assertRaisesMessage(CommandError, "broker"):
                    call_command("check_deploy", stdout=io.StringIO())
            finally:
                app.conf.broker_url = saved
                app._pool = None

    def test_it_notices_unapplied_migrations(self):
        with mock.patch.object(deploycheck.MigrationExecutor, "migration_plan", return_value=[("m", False)]):
            check = deploycheck.check_database()
        self.assertEqual(check.status, deploycheck.FAIL)
        self.assertIn("migrate", check.detail)
