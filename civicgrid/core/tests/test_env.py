import os
import tempfile
from pathlib import Path
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase

from civicgrid.env import env_bool, env_int, env_list, secret_key_from_env_or_file


class EnvReaderTests(SimpleTestCase):
    def test_it_reads_booleans_and_refuses_anything_else(self):
        with mock.patch.dict(os.environ, {"X_FLAG": "true"}):
            self.assertIs(env_bool("X_FLAG", False), True)
        with mock.patch.dict(os.environ, {"X_FLAG": "0"}):
            self.assertIs(env_bool("X_FLAG", True), False)
        with mock.patch.dict(os.environ, {"X_FLAG": "maybe"}), self.assertRaisesMessage(ImproperlyConfigured, "X_FLAG"):
            env_bool("X_FLAG", False)

    def test_it_uses_the_default_when_unset(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertIs(env_bool("X_FLAG", True), True)
            self.assertEqual(env_int("X_INT", 7), 7)
            self.assertEqual(env_list("X_LIST", ["a"]), ["a"])

    def test_it_refuses_a_non_integer(self):
        with mock.patch.dict(os.environ, {"X_INT": "ten"}), self.assertRaisesMessage(ImproperlyConfigured, "X_INT"):
            env_int("X_INT", 1)

    def test_it_splits_lists_on_commas(self):
        with mock.patch.dict(os.environ, {"X_LIST": "a.gov.cn, b.gov.cn,"}):
            self.assertEqual(env_list("X_LIST", []), ["a.gov.cn", "b.gov.cn"])


class SecretKeyTests(SimpleTestCase):
    def test_it_generates_the_key_once_and_keeps_it(self):
        path = Path(tempfile.mkdtemp()) / "var" / "secret_key"
        with mock.patch.dict(os.environ, {}, clear=True):
            first = secret_key_from_env_or_file("SECRET_KEY", path)
            second = secret_key_from_env_or_file("SECRET_KEY", path)
        self.assertEqual(first, second)
        self.assertGreaterEqual(len(first), 50)
        self.assertEqual(path.stat().st_mode & 0o777, 0o600)

    def test_it_prefers_the_environment(self):
        path = Path(tempfile.mkdtemp()) / "secret_key"
        with mock.patch.dict(os.environ, {"SECRET_KEY": "from-env"}):
            self.assertEqual(secret_key_from_env_or_file("SECRET_KEY", path), "from-env")
        self.assertFalse(path.exists())
