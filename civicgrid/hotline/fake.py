"""A tiny fake 12345 hotline for the tests and the demo: it records the callbacks it receives.

    with FakeHotline(fail_first=2) as hotline:
        settings.CIVICGRID_HOTLINE_CALLBACK_URL = hotline.url
        ...
        hotline.received  # the JSON bodies it accepted, in order

It answers 503 to the first `fail_first` requests, then 200; `token`, when set, must arrive in
the X-Hotline-Token header (else 403). `manage.py fake_hotline` serves one for the demo.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHotline:
    def __init__(
        self, *, fail_first: int = 0, token: str = "", host: str = "127.0.0.1", port: int = 0, on_receive=None
    ):
        self.fail_first = fail_first
        self.on_receive = on_receive  # called with (HTTP status, body bytes) after each request
        self.token = token
        self.received: list[dict] = []  # bodies accepted
        self.attempts = 0  # requests answered, accepted or not
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/callbacks"

    def _handler(self):
        hotline = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with hotline.lock:
                    hotline.attempts += 1
                    if hotline.token and self.headers.get("X-Hotline-Token") != hotline.token:
                        status = 403
                    elif hotline.fail_first > 0:
                        hotline.fail_first -= 1
                        status = 503
                    else:
                        try:
                            hotline.received.append(json.loads(body))
                            status = 200
                        except ValueError:
                            status = 400
                if hotline.on_receive is not None:
                    hotline.on_receive(status, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": status == 200}).encode())

            def log_message(self, format, *args):  # quiet in tests
                pass

        return Handler

    def start(self) -> FakeHotline:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self) -> FakeHotline:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
