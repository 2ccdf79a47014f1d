"""Periodic background jobs, run the same way everywhere.

The embedded default (`make run`) needs no broker: gunicorn starts `manage.py run_jobs`
beside its workers (gunicorn.conf.py), which calls each job on its interval. Deployments
run the same functions from Celery beat (civicgrid.celery) instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import import_module

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    path: str  # dotted path of a function taking no arguments, returning a count
    every_seconds: int

    def run(self) -> int:
        module, _, func = self.path.rpartition(".")
        return getattr(import_module(module), func)()


JOBS = [
    # Overdue is always right when read; the sweep marks newly overdue cases so that queues
    # and notifications see them once.
    Job("sla_sweep", "civicgrid.cases.services.cases_mark_overdue", 60),
    # Notifications: case events and deadlines become queued messages; the outbox is sent.
    Job("notify_events", "civicgrid.notifications.jobs.notifications_scan_events", 30),
    Job("notify_deadlines", "civicgrid.notifications.jobs.notifications_scan_deadlines", 60),
    Job("notify_send", "civicgrid.notifications.jobs.notifications_send_due", 30),
    # 12345: queue a callback for each sign, return, result and close of a hotline case, then
    # POST the due ones (retries back off from a minute to an hour; see docs/hotline.md).
    Job("hotline_queue", "civicgrid.hotline.services.hotline_callbacks_queue", 30),
    Job("hotline_send", "civicgrid.hotline.services.hotline_callbacks_send", 30),
]


def run_job(job: Job) -> int | None:
    """Run one job, logging (not raising) its failure so one bad run never stops the loop."""
    try:
        count = job.run()
    except Exception:
        log.exception("job %s failed", job.name)
        return None
    if count:
        log.info("job %s: %s", job.name, count)
    return count
