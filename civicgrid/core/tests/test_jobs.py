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
