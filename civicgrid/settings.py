"""Django settings for CivicGrid: every value comes from the environment.

See docs/configuration.md for each variable.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core.storage import default_storage_config, storage_is_local
from civicgrid.env import env_bool, env_int, env_list, env_str, secret_key_from_env_or_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CIVICGRID_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = secret_key_from_env_or_file("SECRET_KEY", VAR_DIR / "secret_key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies that append to X-Forwarded-For (audit IPs); 0 ignores the header.
CIVICGRID_TRUSTED_PROXIES = env_int("CIVICGRID_TRUSTED_PROXIES", 0)
# Demo mode shows the demo logins on the login page; never on in production.
DEMO_MODE = env_bool("CIVICGRID_DEMO", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "civicgrid.core",
    "civicgrid.geo",
    "civicgrid.catalog",
    "civicgrid.workcalendar",
    "civicgrid.audit",
    "civicgrid.cases",
    "civicgrid.open311",
    "civicgrid.notifications",
    "civicgrid.hotline",
    "civicgrid.portal",
    "civicgrid.evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who and from where, for audit entries of changes made in this request.
    "civicgrid.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "civicgrid" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicgrid.core.context_processors.platform",
            ],
        },
    },
]

# SQLite is the embedded default (no server to install); PostgreSQL in production.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'civicgrid.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections persist too (DB_CONN_MAX_AGE): reopening one runs the PRAGMAs below on
    # every request.
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and the single writer work at once; IMMEDIATE makes a writing
        # transaction take the lock at BEGIN, so concurrent writers wait (busy timeout)
        # instead of failing with "database is locked" at their first write.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server instead of quoted into the SQL in Python, and a statement
    # that a connection has run DB_PREPARE_THRESHOLD times prepared, so that it is planned
    # once (the case page's ten-table join spent 4 ms planning and 0.3 ms running). Behind
    # PgBouncer in transaction mode set DB_PREPARE_THRESHOLD=0 (no prepared statements).
    prepare_threshold = env_int("DB_PREPARE_THRESHOLD", 5)
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": env_bool("DB_SERVER_SIDE_BINDING", True),
        "prepare_threshold": prepare_threshold if prepare_threshold > 0 else None,
    }
    # Server settings for this application's sessions, sent when a connection opens. JIT off:
    # PostgreSQL compiles any query its cost model deems large (an evaluation's scan of a
    # county's month, a cockpit aggregate) — 8-25 ms each time, more than it then saves on
    # queries of tens of milliseconds (a monthly evaluation at 10,000,000 cases: 1.45 → 1.15 s).
    # PgBouncer refuses startup options: set DB_OPTIONS= there and the role's settings instead
    # (docs/deploy.md).
    db_options = env_str("DB_OPTIONS", "-c jit=off")
    if db_options:
        DATABASES["default"]["OPTIONS"]["options"] = db_options
    # PgBouncer in transaction mode also cannot keep the named cursors of QuerySet.iterator().
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)

# Optional PostgreSQL standby for long reads (evaluation, leaders' screens): requests under
# CIVICGRID_READ_REPLICA_PATHS read from it (civicgrid.core.replica); writes stay on default.
_replica_url = env_str("CIVICGRID_READ_REPLICA_URL", "")
CIVICGRID_READ_REPLICA_PATHS = env_list(
    "CIVICGRID_READ_REPLICA_PATHS", ["/api/v1/evaluation/", "/evaluation/", "/cockpit/"]
)
if _replica_url:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("CIVICGRID_READ_REPLICA_URL needs a PostgreSQL DATABASE_URL (the primary)")
    DATABASES["replica"] = {
        **dj_database_url.parse(_replica_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True),
        "OPTIONS": DATABASES["default"]["OPTIONS"],
        "DISABLE_SERVER_SIDE_CURSORS": DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"],
        # Tests read the replica through the default connection: there is no standby in CI.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["civicgrid.core.replica.ReplicaRouter"]
    MIDDLEWARE.insert(0, "civicgrid.core.replica.ReplicaMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
# The session's user with their unit in one query (core.auth.UnitModelBackend).
AUTHENTICATION_BACKENDS = ["civicgrid.core.auth.UnitModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "civicgrid" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Front-end libraries come from npm at set-up time (package.json), never from the repo.
# Only each package's dist/ folder is published.
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [BASE_DIR / "civicgrid" / "static"] + [
    (f"vendor/{name}", _NODE / package / "dist")
    for name, package in (("leaflet", "leaflet"), ("echarts", "echarts"), ("htmx", "htmx.org"))
    if (_NODE / package / "dist").is_dir()
]
# Uploads: MEDIA_ROOT by default, or a private S3-compatible bucket with CIVICGRID_STORAGE=s3
# (civicgrid.core.storage). Static files: hashed and gzipped by collectstatic, served by WhiteNoise.
STORAGES = {
    "default": default_storage_config(),
    "staticfiles": {"BACKEND": "civicgrid.core.staticfiles.StaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "civicgrid.core.auth.CachedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "civicgrid.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CivicGrid API",
    "DESCRIPTION": "智慧城管平台 REST API",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery (deployments only; the embedded default runs the same jobs with `run_jobs`).
# civicgrid/celery.py, docs/jobs.md, docs/deploy.md.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL  # without a broker, tasks run in-process
# Jobs write their effects to the database; a result backend is only for callers that wait.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TIMEZONE = TIME_ZONE
# Jobs are scans of seconds, not a stream of tiny tasks: a process takes one at a time.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Log through LOGGING below, like the web processes.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Uploads (civicgrid.core.uploads): photos and documents are checked by content and size.
CIVICGRID_MAX_PHOTO_BYTES = env_int("CIVICGRID_MAX_PHOTO_BYTES", 10 * 1024 * 1024)
CIVICGRID_MAX_DOCUMENT_BYTES = env_int("CIVICGRID_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024)
CIVICGRID_MAX_IMAGE_PIXELS = env_int("CIVICGRID_MAX_IMAGE_PIXELS", 40_000_000)
# Uploaded files are answered by views that check scope (civicgrid.core.files); behind nginx,
# an internal location mapping to MEDIA_ROOT lets nginx send the bytes (e.g. "/protected-media/").
CIVICGRID_MEDIA_ACCEL_REDIRECT = env_str("CIVICGRID_MEDIA_ACCEL_REDIRECT", "")
if CIVICGRID_MEDIA_ACCEL_REDIRECT and not storage_is_local(STORAGES["default"]):
    raise ImproperlyConfigured(
        "CIVICGRID_MEDIA_ACCEL_REDIRECT maps to MEDIA_ROOT on the local disk: unset it with CIVICGRID_STORAGE=s3"
    )

# The cache holds the rate limits' counters (civicgrid.core.ratelimit), so every web worker
# must share it: files under VAR_DIR by default (no server), Redis in deployments
# (CIVICGRID_CACHE_URL=redis://127.0.0.1:6379/1), or "locmem" (one process only).
CIVICGRID_CACHE_URL = env_str("CIVICGRID_CACHE_URL", "")
if CIVICGRID_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CIVICGRID_CACHE_URL}}
elif CIVICGRID_CACHE_URL == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CIVICGRID_CACHE_URL:
    raise ImproperlyConfigured("CIVICGRID_CACHE_URL: a redis:// URL, 'locmem', or empty for files under VAR_DIR")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# The citizen portal (/p/, docs/portal.md): accepted reports, follows and SMS codes per client
# address and per phone ("20/h", "5/m", "100/d"; empty: no limit), and how often the private
# page asks for news.
CIVICGRID_PORTAL_RATE_PER_IP = env_str("CIVICGRID_PORTAL_RATE_PER_IP", "20/h")
CIVICGRID_PORTAL_RATE_PER_PHONE = env_str("CIVICGRID_PORTAL_RATE_PER_PHONE", "5/h")
CIVICGRID_PORTAL_OTP_PER_PHONE = env_str("CIVICGRID_PORTAL_OTP_PER_PHONE", "5/h")
CIVICGRID_PORTAL_POLL_SECONDS = env_int("CIVICGRID_PORTAL_POLL_SECONDS", 20)
# The handling units' monthly ranking on the portal (/p/ranking/); false: not published.
CIVICGRID_PUBLIC_RANKING = env_bool("CIVICGRID_PUBLIC_RANKING", True)
# Open311 POST bursts per client address through the cache (the per-hour database limit is
# CIVICGRID_OPEN311_POSTS_PER_IP); empty: off.
CIVICGRID_OPEN311_RATE_PER_IP = env_str("CIVICGRID_OPEN311_RATE_PER_IP", "")

# E-mail (notifications with CIVICGRID_NOTIFY_EMAIL=smtp): Django's SMTP backend.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "civicgrid@localhost")

# Map tiles: the demo must look right with none (CIVICGRID_TILE_URL empty).
TILE_URL = env_str("CIVICGRID_TILE_URL", "")
TILE_ATTRIBUTION = env_str("CIVICGRID_TILE_ATTRIBUTION", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Behind nginx terminating HTTPS: trust its X-Forwarded-Proto (nginx must set it, never pass
# the client's), so that Django builds https:// links and accepts https:// origins.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only: Django redirects http:// and sends Strict-Transport-Security (or nginx does both).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
