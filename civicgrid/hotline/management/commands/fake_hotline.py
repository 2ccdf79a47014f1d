"""Serve a fake 12345 hotline for the demo: it prints each callback it receives (docs/hotline.md)."""

import time

from django.core.management.base import BaseCommand

from civicgrid.hotline.fake import FakeHotline


class Command(BaseCommand):
    help = "Serve a fake 12345 hotline that accepts (or first refuses) CivicGrid's callbacks and prints them."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to this many requests first")
        parser.add_argument("--token", default="", help="require this X-Hotline-Token on callbacks")

    def handle(self, *args, host, port, fail_first, token, **options):
        def show(status, body):
            self.stdout.write(f"{status} {body.decode(errors='replace')}")
            self.stdout.flush()

        hotline = FakeHotline(fail_first=fail_first, token=token, host=host, port=port, on_receive=show)
        hotline.start()
        self.stdout.write(f"fake 12345 hotline: set CIVICGRID_HOTLINE_CALLBACK_URL={hotline.url} (Ctrl-C stops)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            hotline.stop()
