"""Test-wide settings: fast password hashing, a throwaway media folder."""

import tempfile


def pytest_configure(config):
    from django.conf import settings

    # For speed: MD5 instead of PBKDF2 (set before any test class creates users).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="civicgrid-media-")
    # Each test process its own cache (rate-limit counters): parallel workers must not share one.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    """Each test starts with an empty case reference cache: rows cached by an earlier test were
    rolled back with its transaction, which sends no signal (the grid index's `invalidate()` is
    the same for civicgrid.geo.lookup)."""
    from civicgrid.cases import reference
    from civicgrid.core import auth

    reference.clear()
    auth.tokens.clear()
    # The rate limits' counters: each test starts with none (the cache is this process's own).
    from django.core.cache import cache

    cache.clear()
    yield
