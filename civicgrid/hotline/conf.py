"""12345 hotline settings: each reads a Django setting of the same name, else the environment variable.

Documented in docs/hotline.md and docs/configuration.md. Read at call time, so tests can use
override_settings.
"""

from django.conf import settings

from civicgrid.env import env_int, env_str

DEFAULTS = {
    # The shared secret the hotline sends in the X-Hotline-Token header; empty turns the inbound API off.
    "CIVICGRID_HOTLINE_TOKEN": lambda: env_str("CIVICGRID_HOTLINE_TOKEN", ""),
    # Where callbacks (sign, return, result, close) are POSTed; empty keeps them queued.
    "CIVICGRID_HOTLINE_CALLBACK_URL": lambda: env_str("CIVICGRID_HOTLINE_CALLBACK_URL", ""),
    # Sent to the hotline in the X-Hotline-Token header of each callback (empty: no header).
    "CIVICGRID_HOTLINE_CALLBACK_TOKEN": lambda: env_str("CIVICGRID_HOTLINE_CALLBACK_TOKEN", ""),
    "CIVICGRID_HOTLINE_TIMEOUT_SECONDS": lambda: env_int("CIVICGRID_HOTLINE_TIMEOUT_SECONDS", 5),
    # Attempts before a callback is marked failed (a "retry now" in the admin gives it one more).
    "CIVICGRID_HOTLINE_MAX_ATTEMPTS": lambda: env_int("CIVICGRID_HOTLINE_MAX_ATTEMPTS", 8),
}


def get(name: str):
    if hasattr(settings, name):
        return getattr(settings, name)
    return DEFAULTS[name]()
