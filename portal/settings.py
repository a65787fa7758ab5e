"""Settings, read from the environment (django-environ).

Nothing configured → SQLite in the project and Celery in eager mode, so a bare machine runs the
demo. ``DATABASE_URL`` / ``REDIS_URL`` switch to PostgreSQL and a Redis broker + cache.
``DJANGO_ENV=production`` turns on the hardening that ``manage.py check --deploy`` asks for.
"""

from datetime import time, timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="" if PRODUCTION else "dev-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz",
)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "axes",
    "csp",
    "portal",
    "dossiers",
    "scoring",
    "simulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
            ],
        },
    },
]


# --- Database -------------------------------------------------------------------------------
def _database_from_url() -> dict:
    url = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    try:
        config = environ.Env.db_url_config(url)
    except (ImproperlyConfigured, KeyError, ValueError) as exc:
        config = {"error": exc}
    if not config.get("ENGINE") or not (config.get("NAME") or "").strip("/"):
        raise ImproperlyConfigured(
            f"DATABASE_URL is malformed ({url!r}); expected e.g. "
            "postgres://user@127.0.0.1:5432/name or sqlite:////absolute/path.db"
        )
    return config


DATABASES = {"default": _database_from_url()}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # Writers take the lock when their transaction begins: a read that later writes would
    # otherwise fail at once with "database is locked" instead of waiting its turn.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/"

# --- Cache and Celery -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=30 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=35 * 60)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_ENABLE_UTC = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- Citizen-service index (scoring) ------------------------------------------------------------
# Methodology versions snapshotted every night; a run silent this long is declared dead.
SCORING_METHODOLOGIES = env.list("SCORING_METHODOLOGIES", default=["2026", "2025-07"])
SCORING_RUN_STALE_SECONDS = env.int("SCORING_RUN_STALE_SECONDS", default=15 * 60)
# Sort and hash memory of the facts statements (PostgreSQL ``work_mem``, set for their
# transaction only): at the default 4 MB a night's marker rows sort on disk.
SCORING_FACTS_WORK_MEM = env.str("SCORING_FACTS_WORK_MEM", default="64MB")

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# Working calendar: office hours of a public administration service centre (dossier-rules.md).
OFFICE_HOURS = (
    (time(7, 0), time(11, 30)),
    (time(13, 30), time(17, 0)),
)

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Citizens' documents live outside the web root and are served only through permission checks.
MEDIA_ROOT = env.path("DOCUMENT_ROOT", default=VAR_DIR / "documents")
MEDIA_URL = "/documents-not-served/"
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="6000/min"),
        "tracking": env.str("THROTTLE_TRACKING", default="10/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Citizen-service portal simulator API",
    "DESCRIPTION": "Dossiers, procedures, units and the citizen-service index (Decision 766).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_AGE = 15 * 60  # citizens are logged out after 15 minutes idle
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    }
}
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Throttles key anonymous clients by address. DRF trusts any X-Forwarded-For by default, so a
# forged header would reset every budget: trust it only as far as our own proxies (production
# sits behind one, see SECURE_PROXY_SSL_HEADER; set NUM_PROXIES=0 if it does not).
REST_FRAMEWORK["NUM_PROXIES"] = env.int("NUM_PROXIES", default=1 if PRODUCTION else 0)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # __Host- cookies: HTTPS only, this host only, path / (no sibling subdomain can set them).
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@dichvucong.example.vn")

# Mock gateways (development): payment callbacks are signed with this key (HMAC-SHA256).
PAYMENT_GATEWAY_SECRET = env.str("PAYMENT_GATEWAY_SECRET", default="dev-payment-secret")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler masks citizen IDs (portal/logging.py); Django's own loggers use it too, so
    # request errors quoting a CCCD are masked (Django's default unfiltered handlers dropped).
    "filters": {"mask_citizen_ids": {"()": "portal.logging.CitizenIdMaskFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_citizen_ids"]},
    },
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "portal": {"handlers": ["console"], "level": "INFO"},
        "dossiers": {"handlers": ["console"], "level": "INFO"},
        "scoring": {"handlers": ["console"], "level": "INFO"},
        "simulator": {"handlers": ["console"], "level": "INFO"},
    },
}

# --- Citizen portal and REST API (issue 5) ----------------------------------------------------
INSTALLED_APPS += ["drf_spectacular_sidecar"]  # Swagger UI served from our static files
AUTHENTICATION_BACKENDS += ["portal.identity.IdentityProviderBackend"]
# Mock VNeID in development; a real provider implements portal.identity.IdentityProvider.
IDENTITY_PROVIDER = env.str("IDENTITY_PROVIDER", default="portal.identity.MockVNeIDProvider")
IDENTITY_SHOW_CODE = env.bool("IDENTITY_SHOW_CODE", default=not PRODUCTION)
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "dossiers.api.exceptions.api_exception_handler"
REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] = "dossiers.api.pagination.CodeCursorPagination"
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "dossiers.api.schema.add_error_responses",
        ],
        "ENUM_NAME_OVERRIDES": {
            "DossierStateEnum": "dossiers.models.DossierState",
            "DossierChannelEnum": "dossiers.models.Channel",
            "PaymentChannelEnum": "dossiers.models.PaymentChannel",
        },
    }
)
