import io
from unittest import mock

from django.core.management import call_command
from django.test import TestCase

from civicgrid.core.jobs import JOBS, Job, run_job


class JobTests(TestCase):
    def test_it_runs_every_registered_job_once(self):
        out = io.StringIO()
        call_command("run_jobs", "--once", stdout=out)
        for job in JOBS:
            self.assertIn(f"{job.name}: 0", out.getvalue())

    def test_it_logs_a_failing_job_without_stopping(self):
        broken = Job("broken", "civicgrid.core.jobs.no_such_function", 60)
        with self.assertLogs("civicgrid.core.jobs", level="ERROR"):
            self.assertIsNone(run_job(broken))

    def test_it_registers_the_sla_sweep(self):
        sweep = {job.name: job for job in JOBS}["sla_sweep"]
        with mock.patch("civicgrid.cases.services.cases_mark_overdue", return_value=3):
            self.assertEqual(sweep.run(), 3)


class CeleryTaskTests(TestCase):
    def test_it_runs_a_job_by_name_through_the_celery_task(self):
        from civicgrid.celery import run_job_task

        with mock.patch("civicgrid.cases.services.cases_mark_overdue", return_value=2):
            self.assertEqual(run_job_task.delay("sla_sweep").get(), 2)

    def test_it_schedules_every_job_with_beat(self):
        from civicgrid.celery import app

        app.finalize()
        scheduled = {entry["args"][0] for entry in app.conf.beat_schedule.values()}
        self.assertEqual(scheduled, {job.name for job in JOBS})
