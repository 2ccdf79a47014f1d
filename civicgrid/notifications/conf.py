"""Notification settings: each reads a Django setting of the same name, else the environment variable.

Documented in docs/configuration.md and docs/notifications.md. Read at call time, so tests can
use override_settings. The SMTP server itself is Django's EMAIL_* settings (civicgrid/settings.py).
"""

from django.conf import settings

from civicgrid.env import env_int, env_list, env_str

DEFAULTS = {
    # Channels staff are told on, each used when the user has the address it needs.
    "CIVICGRID_NOTIFY_STAFF_CHANNELS": lambda: env_list("CIVICGRID_NOTIFY_STAFF_CHANNELS", ["inapp"]),
    # "log" writes a line (masked address) instead of mailing; "smtp" sends through Django's email.
    "CIVICGRID_NOTIFY_EMAIL": lambda: env_str("CIVICGRID_NOTIFY_EMAIL", "log"),
    "CIVICGRID_NOTIFY_WEBHOOK_URL": lambda: env_str("CIVICGRID_NOTIFY_WEBHOOK_URL", ""),
    "CIVICGRID_NOTIFY_WEBHOOK_SECRET": lambda: env_str("CIVICGRID_NOTIFY_WEBHOOK_SECRET", ""),
    "CIVICGRID_NOTIFY_TIMEOUT": lambda: env_int("CIVICGRID_NOTIFY_TIMEOUT", 10),
    "CIVICGRID_SMS_PROVIDER": lambda: env_str(
        "CIVICGRID_SMS_PROVIDER", "civicgrid.notifications.backends.LogSmsProvider"
    ),
    "CIVICGRID_SMS_URL": lambda: env_str("CIVICGRID_SMS_URL", ""),
    "CIVICGRID_SMS_KEY": lambda: env_str("CIVICGRID_SMS_KEY", ""),
    "CIVICGRID_NOTIFY_MAX_ATTEMPTS": lambda: env_int("CIVICGRID_NOTIFY_MAX_ATTEMPTS", 5),
    "CIVICGRID_NOTIFY_RETRY_SECONDS": lambda: env_int("CIVICGRID_NOTIFY_RETRY_SECONDS", 60),
    # Events older than this when first scanned notify nobody (a first start, a long outage).
    "CIVICGRID_NOTIFY_MAX_AGE_HOURS": lambda: env_int("CIVICGRID_NOTIFY_MAX_AGE_HOURS", 24),
    # Channel → dotted backend class path, replacing the choice above (tests, custom channels).
    "CIVICGRID_NOTIFY_BACKENDS": lambda: {},
}


def get(name: str):
    if hasattr(settings, name):
        return getattr(settings, name)
    return DEFAULTS[name]()
