"""Celery for deployments: the same periodic jobs as `run_jobs`, on a broker (Redis or RabbitMQ).

Start a worker and beat with (bin/worker and bin/beat in a deployment):
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 .venv/bin/celery -A civicgrid worker --beat
and set CIVICGRID_EMBEDDED_JOBS=false for the web server, and a worker for the `bulk` queue
(case history imports) with `bin/worker -Q bulk`. See docs/jobs.md and docs/deploy.md.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")

app = Celery("civicgrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Long imports go to their own queue, so that a worker started with `bin/worker -Q bulk` runs
# them and the periodic jobs (SLA sweep, notifications) never wait behind one.
app.conf.task_routes = {"civicgrid.import_cases": {"queue": "bulk"}}
# Tasks of the apps (civicgrid/<app>/tasks.py): civicgrid.import_cases in civicgrid.cases.tasks.
app.autodiscover_tasks(["civicgrid.cases"])


@app.task(name="civicgrid.run_job")
def run_job_task(name: str) -> int | None:
    from civicgrid.core.jobs import JOBS, run_job

    return run_job({job.name: job for job in JOBS}[name])


@app.on_after_finalize.connect
def _schedule_jobs(sender, **kwargs):
    from civicgrid.core.jobs import JOBS

    for job in JOBS:
        # A run still queued when the next one is due is dropped (the worker was down or
        # busy): each job catches up by itself, so stale copies would only repeat the work.
        sender.add_periodic_task(job.every_seconds, run_job_task.s(job.name), name=job.name, expires=job.every_seconds)
