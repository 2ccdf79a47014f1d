"""The background jobs through a real Celery worker on a real Redis broker.

A worker (celery.contrib.testing.worker.start_worker: the real consumer, in a thread of this
process, so it reads and writes the test database) takes `civicgrid.run_job` tasks from Redis
and runs the SLA sweep and the notification outbox; the tests check their effects in the
database. Each run uses its own queue name, so two suites on one Redis never take each
other's tasks.

The broker is CIVICGRID_TEST_REDIS_URL (default redis://127.0.0.1:6379/14). Skipped only when
that Redis does not answer; CI (.ci/run) sets CIVICGRID_TEST_REQUIRE_SERVICES=true, which
turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unittest
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection, connections
from django.test import TransactionTestCase
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.cases.tests.fixtures import build_people, report
from civicgrid.core import deploycheck
from civicgrid.core.testing import die_with_parent
from civicgrid.env import env_bool
from civicgrid.geo import lookup
from civicgrid.notifications.models import Channel, Notification

REDIS_URL = os.environ.get("CIVICGRID_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
REQUIRED = env_bool("CIVICGRID_TEST_REQUIRE_SERVICES", False)
TIMEOUT = 30


def redis_unreachable() -> str:
    """Why Redis cannot be used, or "" when it answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} does not answer ({exc}); set CIVICGRID_TEST_REDIS_URL"
    return ""


class BrokerTestCase(TransactionTestCase):
    """Switches civicgrid.celery.app to the test Redis, on a queue of its own, for one class;
    subclasses start a worker in `start_worker()` and stop it in `stop_worker()`."""

    # The conf keys changed for the worker, put back afterwards: the rest of the suite runs
    # tasks eagerly (no broker).
    CONF_KEYS = (
        "broker_url",
        "result_backend",
        "task_always_eager",
        "task_default_queue",
        "result_expires",
    )

    @classmethod
    def setUpClass(cls):
        problem = redis_unreachable()
        if problem:
            if REQUIRED:
                raise AssertionError(f"CIVICGRID_TEST_REQUIRE_SERVICES: {problem}")
            raise unittest.SkipTest(problem)
        super().setUpClass()
        from civicgrid.celery import app

        cls.app = app
        cls.queue = f"civicgrid-test-{uuid.uuid4().hex[:12]}"
        cls.saved_conf = {key: app.conf[key] for key in cls.CONF_KEYS}
        app.conf.update(
            broker_url=REDIS_URL,
            result_backend=REDIS_URL,
            task_always_eager=False,
            task_default_queue=cls.queue,
            result_expires=300,
        )
        cls._reset_connections()
        try:
            cls.start_worker()
        except Exception:
            cls._restore()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop_worker()
        finally:
            cls._restore()
            super().tearDownClass()

    @classmethod
    def start_worker(cls):
        raise NotImplementedError

    @classmethod
    def stop_worker(cls):
        raise NotImplementedError

    @classmethod
    def _restore(cls):
        import redis

        # The queue's bindings stay in Redis after the worker has gone (results expire).
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"*{cls.queue}*"):
            client.delete(key)
        cls.app.conf.update(cls.saved_conf)
        cls._reset_connections()

    @classmethod
    def _reset_connections(cls):
        # Broker and backend connections are made from the conf once and kept: drop them, and
        # kombu's process-wide producer pools with them.
        from kombu import pools

        if cls.app._pool is not None:
            cls.app._pool.force_close_all()
            cls.app._pool = None
        pools.reset()
        cls.app._local.__dict__.pop("backend", None)
        cls.app.amqp.__dict__.pop("queues", None)
        cls.app.amqp.__dict__.pop("_producer_pool", None)
        cls.app.amqp._producer_pool = None


class JobsThroughWorker:
    """The tests, for either worker. Otto, Sue, Dora and the others of
    civicgrid.cases.tests.fixtures; Ivy reports."""

    def setUp(self):
        lookup.invalidate()
        self.made = build_people()

    def run_job(self, name: str) -> int:
        from civicgrid.celery import run_job_task

        result = run_job_task.delay(name)
        # Sent to Redis and answered by the worker, not run in this thread (EagerResult).
        self.assertEqual(type(result.backend).__name__, "RedisBackend")
        return result.get(timeout=TIMEOUT)

    def test_the_sla_sweep_marks_an_overdue_case_through_the_worker(self):
        case = report(self.made)
        Case.objects.filter(pk=case.pk).update(stage_deadline=timezone.now() - timedelta(hours=1))
        self.assertIs(Case.objects.get(pk=case.pk).overdue_marked, False)

        self.assertEqual(self.run_job("sla_sweep"), 1)
        self.assertIs(Case.objects.get(pk=case.pk).overdue_marked, True)
        # Marked once: the next sweep finds nothing new.
        self.assertEqual(self.run_job("sla_sweep"), 0)

    def test_a_queued_notification_is_sent_through_the_worker(self):
        message = Notification.objects.create(
            user=self.made["lea"],
            email="lea@example.cn",
            # CIVICGRID_NOTIFY_EMAIL=log (the default): the log backend writes one masked line.
            channel=Channel.EMAIL,
            kind="remind",
            subject="催办",
            body="请尽快处置",
            dedupe_key=f"celery-test-{uuid.uuid4().hex}",
        )
        with self.assertLogs("civicgrid.notifications", "INFO") as logs:
            self.assertEqual(self.run_job("notify_send"), 1)
        message.refresh_from_db()
        self.assertEqual((message.status, message.attempts), ("sent", 1))
        self.assertIsNotNone(message.sent_at)
        self.assertIn(f"notification {message.pk} email remind", "".join(logs.output))


class CeleryWorkerTests(JobsThroughWorker, BrokerTestCase):
    """A worker in a thread of this process: it shares the test database on SQLite and PostgreSQL."""

    @classmethod
    def start_worker(cls):
        from celery.contrib.testing import tasks  # noqa: F401 (registers celery.ping for the start check)
        from celery.contrib.testing.worker import start_worker

        # The worker thread opens its own database connection; with CONN_MAX_AGE 0 Celery's
        # Django fix-up closes it after each task, so none is left open on the test database.
        cls.saved_max_age = connections.settings["default"].get("CONN_MAX_AGE")
        connections.settings["default"]["CONN_MAX_AGE"] = 0
        cls._worker = start_worker(cls.app, perform_ping_check=True, ping_task_timeout=TIMEOUT, shutdown_timeout=30)
        try:
            cls._worker.__enter__()
        except Exception:
            connections.settings["default"]["CONN_MAX_AGE"] = cls.saved_max_age
            raise

    @classmethod
    def stop_worker(cls):
        try:
            cls._worker.__exit__(None, None, None)
        finally:
            connections.settings["default"]["CONN_MAX_AGE"] = cls.saved_max_age

    def test_check_deploy_finds_the_broker(self):
        with self.settings(CELERY_BROKER_URL=REDIS_URL):
            check = deploycheck.check_broker()
        self.assertEqual(check.status, deploycheck.OK, check.detail)
        self.assertIn("127.0.0.1:6379/14 answers", check.detail)


@unittest.skipUnless(connection.vendor == "postgresql", "a worker process needs a database it can open: PostgreSQL")
class CeleryWorkerProcessTests(JobsThroughWorker, BrokerTestCase):
    """`bin/worker`, as systemd starts it in a deployment: its own process, configured only by
    environment variables, on the test database."""

    @classmethod
    def start_worker(cls):
        db = connection.settings_dict
        database_url = (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{quote(db['NAME'])}"
        )
        cls.var = tempfile.mkdtemp()
        # Not this process's CELERY_* (Celery itself sets CELERY_LOG_LEVEL and others for its children).
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
        env = {
            **inherited,
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_RESULT_BACKEND": REDIS_URL,
            "CELERY_CONCURRENCY": "1",
            "CIVICGRID_VAR_DIR": cls.var,
        }
        cls.log = open(Path(cls.var) / "worker.log", "wb")  # closed in stop_worker()
        cls.process = subprocess.Popen(
            ["bin/worker", "--queues", cls.queue, "--hostname", f"{cls.queue}@%h", "--pool", "solo"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=cls.log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    @classmethod
    def stop_worker(cls):
        # SIGTERM: Celery's warm shutdown, as systemd stops it.
        cls.process.terminate()
        try:
            cls.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cls.process.kill()
            cls.process.wait()
        cls.log.close()
        shutil.rmtree(cls.var, ignore_errors=True)

    def run_job(self, name: str) -> int:
        if self.process.poll() is not None:
            self.fail(f"bin/worker exited ({self.process.returncode}): {self.worker_log()}")
        try:
            return super().run_job(name)
        except Exception as exc:
            raise AssertionError(f"{exc!r}; worker log:\n{self.worker_log()}") from exc

    def worker_log(self) -> str:
        return (Path(self.var) / "worker.log").read_text(errors="replace")[-3000:]

    def test_a_queued_notification_is_sent_through_the_worker(self):
        # The log line is written in the worker process, not here: check the row only.
        message = Notification.objects.create(
            user=self.made["lea"],
            email="lea@example.cn",
            channel=Channel.EMAIL,
            kind="remind",
            subject="催办",
            body="请尽快处置",
            dedupe_key=f"celery-test-{uuid.uuid4().hex}",
        )
        self.assertEqual(self.run_job("notify_send"), 1)
        message.refresh_from_db()
        self.assertEqual((message.status, message.attempts), ("sent", 1))
        self.assertIn(f"notification {message.pk} email remind", self.worker_log())
