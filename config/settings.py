"""PostDesk settings: one module, driven by environment variables.

With nothing set it runs on one laptop: an SQLite file, Celery tasks run eagerly in-process,
a development secret key and DEBUG off unless asked for. DATABASE_URL, CELERY_BROKER_URL,
SECRET_KEY, ALLOWED_HOSTS and HTTPS switch to production. README.md lists every variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import cache_from_url, database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
_DEV_SECRET_KEY = "postdesk-development-key-not-for-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must not be empty.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    # PostDesk apps, in the order they may import each other (downward only).
    "core",
    "accounts",
    "communes",
    "dossiers",
    "postal",
    "reports",
    "api",
    "privacy",
    # Above postal and reports: they may not import these two.
    "notify",
    "dvcqg",
    # Demo data and the seed_demo command (on top: nothing imports it).
    "demo",
    # After PostDesk's apps: the earlier app's translation wins, and DRF's Vietnamese catalogue
    # has its own words for "Username" and "Password".
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL in any parameter is a 400 before a view or the database sees it.
    "core.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    # Axes last: it answers locked-out logins before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": database_from_url(
        "DATABASE_URL", env_str("DATABASE_URL", "sqlite:///db.sqlite3"), base_dir=BASE_DIR
    )
}
# A PostgreSQL streaming replica for the pages that only read (dashboards, exports, the dossier
# list): core/replica.py, docs/scaling.md. Tests mirror it on the primary.
if env_str("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = database_from_url(
        "DATABASE_REPLICA_URL", env_str("DATABASE_REPLICA_URL", ""), base_dir=BASE_DIR
    ) | {"TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions end after a working day of inactivity and when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False

# Login protection (django-axes): 5 failures for one account from one address lock it for
# 15 minutes; a successful login resets the count.
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0)

# Personal data retention: applicants of dossiers closed longer ago than this are anonymised by
# `manage.py anonymise_dossiers` (privacy app, docs/security.md).
RETENTION_YEARS = env_int("RETENTION_YEARS", 5, minimum=1)
# Lifetime of the weekly-rate computation lock; its holder renews it while it runs, so a killed
# worker blocks the next run for at most this long.
REPORTS_LOCK_SECONDS = env_int("REPORTS_LOCK_SECONDS", 120, minimum=2)
# Freshness of the dashboards (reports/freshness.py): a change is recounted this many seconds
# after the first write of a burst (the writes of the burst share one recount), and figures whose
# changes wait longer than REPORTS_STALE_SECONDS are shown as late, with the reason.
REPORTS_REFRESH_DELAY = env_int("REPORTS_REFRESH_DELAY", 20, minimum=0)
REPORTS_STALE_SECONDS = env_int("REPORTS_STALE_SECONDS", 90, minimum=10)
# Off: no recount follows writes (the beat's minute still runs with a worker); for measuring.
REPORTS_AUTO_REFRESH = env_bool("REPORTS_AUTO_REFRESH", default=True)

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
# dd/mm/yyyy in both languages; see config/formats.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Files with personal data (proofs of delivery): never under MEDIA_URL, served by scoped views.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded import files may be large; the import code streams them from disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: Redis through CELERY_BROKER_URL; with none, tasks run eagerly in-process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL) or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must not hang when Redis is down: fail fast, the caller decides what to do.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2}
CELERY_RESULT_EXPIRES = 3600
# No task's result is read (state lives in the database: runs, import jobs); storing results
# would make every send wait ~20 s on the result store's reconnects while Redis is down.
# config.ping, read by the health checks, keeps its result.
CELERY_TASK_IGNORE_RESULT = True

# Citizens' notices (docs/notifications.md) and the national portal sync (docs/dvcqg.md). With no
# endpoint configured, messages go to the outbox (the log) and the sync is off.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
NOTIFY_ZNS_URL = env_str("NOTIFY_ZNS_URL", "")
NOTIFY_ZNS_ACCESS_TOKEN = env_str("NOTIFY_ZNS_ACCESS_TOKEN", "")
# ZNS template ids registered with Zalo, one per event: "received=123,delivered=456,…".
NOTIFY_ZNS_TEMPLATES = dict(pair.split("=", 1) for pair in env_list("NOTIFY_ZNS_TEMPLATES") if "=" in pair)
NOTIFY_SMS_URL = env_str("NOTIFY_SMS_URL", "")
NOTIFY_SMS_API_KEY = env_str("NOTIFY_SMS_API_KEY", "")
NOTIFY_SMS_BRANDNAME = env_str("NOTIFY_SMS_BRANDNAME", "POSTDESK")
NOTIFY_TIMEOUT_SECONDS = env_int("NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)
DVCQG_URL = env_str("DVCQG_URL", "")
DVCQG_API_KEY = env_str("DVCQG_API_KEY", "")
DVCQG_TIMEOUT_SECONDS = env_int("DVCQG_TIMEOUT_SECONDS", 15, minimum=1)

# Cache: Redis when configured (shared across processes), local memory otherwise. With Redis
# down, reads miss and writes are skipped (core.cache): pages keep answering.
REDIS_CACHE_URL = env_str("CACHE_URL", "")
CACHES = {"default": cache_from_url(REDIS_CACHE_URL)}

# HTTPS: secure cookies, HSTS and redirect when the site is served over TLS.
HTTPS = env_bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline
# (templates carry no <script> blocks or on* attributes; a test checks). Inline styles stay
# allowed for Bootstrap's style attributes (progress bars), which cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        # The postal app's service worker and manifest (postal.app_views), from our own origin.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The scan screen may use the phone's camera; nothing else needs device features.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY and env_bool("PRODUCTION", default=False):
    raise ImproperlyConfigured("SECRET_KEY must be set when PRODUCTION is true.")

# API v1 (api app, docs/api.md): client tokens or sign-in sessions, per-client rate limits,
# errors as RFC 9457 problem details, OpenAPI 3.1 from drf-spectacular.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ScopeRequired"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PostDesk API",
    "DESCRIPTION": "Dossiers from provincial one-stop systems, carrier tracking events, weekly rates "
    "and signed webhooks. Errors are RFC 9457 problem details. See docs/api.md.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from our own static files (drf-spectacular-sidecar): nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Never log request bodies or query strings with personal data: Django's request
        # logger only logs the path and status.
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
