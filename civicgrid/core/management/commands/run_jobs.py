import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from civicgrid.core.jobs import JOBS, run_job


class Command(BaseCommand):
    help = "运行定时任务（超期扫描等）；嵌入式部署由 gunicorn 启动，生产部署使用 Celery beat。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="每个任务运行一次后退出")

    def handle(self, *args, once: bool = False, **options):
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        next_run = {job.name: 0.0 for job in JOBS}
        while not stopping:
            now = time.monotonic()
            for job in JOBS:
                if now >= next_run[job.name]:
                    if not once:
                        # A long-lived loop: drop connections the database has closed meanwhile.
                        close_old_connections()
                    count = run_job(job)
                    if once:
                        self.stdout.write(f"{job.name}: {count}")
                    next_run[job.name] = now + job.every_seconds
            if once:
                return
            time.sleep(1)
