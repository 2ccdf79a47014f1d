"""gunicorn settings for `make run` (bin/serve passes bind and workers on the command line).

The embedded default has no Celery: the master starts `manage.py run_jobs` beside the
workers and stops it on shutdown, so one Ctrl-C or SIGTERM ends everything.
"""

import os
import subprocess
import sys

_jobs = None


def when_ready(server):
    global _jobs
    if os.environ.get("CIVICGRID_EMBEDDED_JOBS", "true") == "true":
        _jobs = subprocess.Popen([sys.executable, "manage.py", "run_jobs"])
        server.log.info("Background jobs started (pid %s)", _jobs.pid)


def post_worker_init(worker):
    """Import every view now, before the worker takes requests: the URL patterns import them
    (and DRF, the serializers, the Open311 and evaluation code), 270 ms on the bench machine
    that each new worker's first request waited for — after every start and `reload`."""
    from django.urls import get_resolver

    worker_views = get_resolver().url_patterns  # the property imports the URL modules and their views
    del worker_views


def on_exit(server):
    if _jobs is not None and _jobs.poll() is None:
        _jobs.terminate()
        try:
            _jobs.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _jobs.kill()
