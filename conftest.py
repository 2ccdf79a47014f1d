"""Test-wide settings: fast password hashing, a throwaway media folder."""

import tempfile


def pytest_configure(config):
    from django.conf import settings

    # For speed: MD5 instead of PBKDF2 (set before any test class creates users).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="civicgrid-media-")
