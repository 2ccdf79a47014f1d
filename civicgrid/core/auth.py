"""API token authentication with the token → user lookup kept a few seconds per process.

Every API request of an app carries its token; reading the token and its user was a query
and a fifth of the time of a report through the API. `CachedTokenAuthentication` keeps the
answer `TTL` seconds per process: a token deleted or a user changed (deactivated, given
another role or scope) in this process counts at once, in another process within `TTL`.
Each request gets its own copy of the user, so nothing set on one request's user leaks into
another's.
"""

from __future__ import annotations

import copy
import threading
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication

TTL = 2.0
MAX_ENTRIES = 4096


class _TokenCache:
    def __init__(self):
        self._items: dict[str, tuple[float, tuple]] = {}
        self._lock = threading.Lock()

    def get(self, key: str):
        hit = self._items.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def put(self, key: str, value: tuple) -> None:
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()
            self._items[key] = (time.monotonic() + TTL, value)

    def clear(self, **_signal_kwargs) -> None:
        with self._lock:
            self._items = {}


tokens = _TokenCache()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        hit = tokens.get(key)
        if hit is None:
            hit = super().authenticate_credentials(key)  # raises AuthenticationFailed
            tokens.put(key, hit)
        user, token = hit
        return copy.copy(user), token


def connect_signals() -> None:
    """Forget every cached token when a token or a user changes here (CoreConfig.ready)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    for model in (Token, get_user_model()):
        post_save.connect(tokens.clear, sender=model, dispatch_uid=f"token-cache-save-{model.__name__}")
        post_delete.connect(tokens.clear, sender=model, dispatch_uid=f"token-cache-delete-{model.__name__}")


class UnitModelBackend(ModelBackend):
    """Django's model backend, loading a session's user with their unit in the same query:
    every page's header names the unit (base.html), which was one more query per page."""

    def get_user(self, user_id):
        try:
            user = get_user_model()._default_manager.select_related("org_unit").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
