"""Open311 settings: each reads a Django setting of the same name, else the environment variable.

Documented in docs/open311.md. Read at call time, so tests can use override_settings.
"""

from django.conf import settings

from civicgrid.env import env_int, env_str

DEFAULTS = {
    # The spec's default volume: "a span of 90 days or first 1000 requests, whichever is smallest".
    "CIVICGRID_OPEN311_MAX_REQUESTS": lambda: env_int("CIVICGRID_OPEN311_MAX_REQUESTS", 1000),
    "CIVICGRID_OPEN311_MAX_DAYS": lambda: env_int("CIVICGRID_OPEN311_MAX_DAYS", 90),
    # POSTs accepted per client IP in the window (0 turns the limit off).
    "CIVICGRID_OPEN311_POSTS_PER_IP": lambda: env_int("CIVICGRID_OPEN311_POSTS_PER_IP", 20),
    "CIVICGRID_OPEN311_POST_WINDOW_SECONDS": lambda: env_int("CIVICGRID_OPEN311_POST_WINDOW_SECONDS", 3600),
    "CIVICGRID_OPEN311_MAX_MEDIA_FILES": lambda: env_int("CIVICGRID_OPEN311_MAX_MEDIA_FILES", 3),
    # Empty: one jurisdiction, jurisdiction_id is optional and not checked.
    "CIVICGRID_OPEN311_JURISDICTION_ID": lambda: env_str("CIVICGRID_OPEN311_JURISDICTION_ID", ""),
    "CIVICGRID_OPEN311_CONTACT": lambda: env_str("CIVICGRID_OPEN311_CONTACT", "城市管理局数字城管监督指挥中心"),
    "CIVICGRID_OPEN311_KEY_SERVICE": lambda: env_str(
        "CIVICGRID_OPEN311_KEY_SERVICE", "API keys are issued per application by the bureau's administrator."
    ),
    "CIVICGRID_OPEN311_ENDPOINT_TYPE": lambda: env_str("CIVICGRID_OPEN311_ENDPOINT_TYPE", "production"),
}


def get(name: str):
    if hasattr(settings, name):
        return getattr(settings, name)
    return DEFAULTS[name]()
