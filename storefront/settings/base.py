"""Settings shared by every environment; the environment chooses databases, caches and secrets."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab, crontab_parser
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "simple_history",
    "import_export",
    "django_htmx",
    "csp",
    "axes",
    "accounts",
    "territories",
    "segments",
    "catalog",
    "ordering",
    "pricing",
    "merchandising",
    "insights",
    "storefront",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "storefront.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the session middleware, so it sees whether anything read the session.
    "storefront.middleware.PersonalResponseMiddleware",
    "storefront.middleware.ApiConventionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "segments.middleware.BuyerMiddleware",
    # Last, as django-axes asks: turns a lockout into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp, docs/security.md): scripts and styles only from our own
# origin, never inline; a page that must inline a style (the API documentation) marks it with
# the request's nonce. The admin alone may also use style attributes (storefront/middleware.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "storefront.urls"
WSGI_APPLICATION = "storefront.wsgi.application"
ASGI_APPLICATION = "storefront.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "segments.context_processors.buyer",
                "segments.context_processors.account_service",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Concurrent requests of the embedded server: a transaction takes the write lock when
            # it begins (a read lock upgraded later fails at once with "database is locked"), and
            # waits for it rather than failing.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
            "KEY_PREFIX": "storefront",
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions live in the database; the cache only speeds them up, so a Redis outage logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/London"
CELERY_BEAT_SCHEDULE: dict = {
    "pricing-hot-folder": {"task": "pricing.tasks.price_hot_folder_scan", "schedule": 60.0},
    "territories-day-start": {
        "task": "territories.tasks.territory_rules_day_start", "schedule": 300.0,
    },
}
# Called by accounts.services.organisation_save (accounts imports no higher app): the account
# manager a segment or territory gives the organisation, and its admin permissions, follow.
ORGANISATION_SAVED_FOLLOW_UPS = ["segments.coverage.account_coverage_sync"]

CELERY_BEAT_SCHEDULE["contract-service-tiers"] = {
    "task": "pricing.tasks.contract_service_tiers_day_start", "schedule": crontab(hour=0, minute=5),
}
# How often the webhook sweep re-queues due deliveries: a delivery whose worker died is attempted
# again within a lease plus this (docs/api.md "Webhooks", measured by bench_webhook_recovery).
WEBHOOK_SWEEP_SECONDS = float(os.environ.get("WEBHOOK_SWEEP_SECONDS", "15"))
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {
    "task": "ordering.tasks.webhooks_sweep", "schedule": WEBHOOK_SWEEP_SECONDS,
}
CELERY_BEAT_SCHEDULE["card-payments-settle"] = {
    "task": "ordering.tasks.card_payments_settle", "schedule": 60.0,
}

# Computed segments (segments/services.py): an incremental recompute every night at this time
# (Europe/London), and a full one instead on the day(s) of SEGMENTS_FULL_RECOMPUTE_DAY (cron day of
# week: "sun", "6", "mon,thu").
SEGMENTS_RECOMPUTE_HOUR = int(os.environ.get("SEGMENTS_RECOMPUTE_HOUR", "2"))
SEGMENTS_RECOMPUTE_MINUTE = int(os.environ.get("SEGMENTS_RECOMPUTE_MINUTE", "30"))
SEGMENTS_FULL_RECOMPUTE_DAY = os.environ.get("SEGMENTS_FULL_RECOMPUTE_DAY", "sun")
# A run still marked running after this long is taken to have died (where no database lock says so).
SEGMENTS_RUN_STALE_HOURS = int(os.environ.get("SEGMENTS_RUN_STALE_HOURS", "6"))
_INCREMENTAL_DAYS = sorted(set(range(7)) - crontab_parser(7).parse(SEGMENTS_FULL_RECOMPUTE_DAY))
if _INCREMENTAL_DAYS:
    CELERY_BEAT_SCHEDULE["segments-recompute-nightly"] = {
        "task": "segments.tasks.recompute_segments_task",
        "schedule": crontab(
            hour=SEGMENTS_RECOMPUTE_HOUR, minute=SEGMENTS_RECOMPUTE_MINUTE,
            day_of_week=",".join(str(day) for day in _INCREMENTAL_DAYS),
        ),
        "kwargs": {"full": False},
    }
CELERY_BEAT_SCHEDULE["segments-recompute-weekly-full"] = {
    "task": "segments.tasks.recompute_segments_task",
    "schedule": crontab(
        hour=SEGMENTS_RECOMPUTE_HOUR, minute=SEGMENTS_RECOMPUTE_MINUTE,
        day_of_week=SEGMENTS_FULL_RECOMPUTE_DAY,
    ),
    "kwargs": {"full": True},
}

# Card payments (ordering/services/payment.py, docs/ordering.md "Card payment"). An order awaiting
# payment longer than the timeout is settled: confirmed if the gateway captured it, else released.
ORDERING_PAYMENT_TIMEOUT_MINUTES = int(os.environ.get("ORDERING_PAYMENT_TIMEOUT_MINUTES", "15"))
# How long the test gateway's slow card (4000 0000 0000 0077) takes to answer.
ORDERING_TEST_GATEWAY_DELAY_SECONDS = float(
    os.environ.get("ORDERING_TEST_GATEWAY_DELAY_SECONDS", "3")
)

# Webhooks (ordering/services/webhooks.py, docs/api.md "Webhooks"). The lease must outlast the
# timeout: an attempt still waiting for its answer is not started again.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_LEASE_SECONDS = int(os.environ.get("WEBHOOK_LEASE_SECONDS", "30"))
WEBHOOK_BACKOFF_SECONDS = int(os.environ.get("WEBHOOK_BACKOFF_SECONDS", "30"))
WEBHOOK_BACKOFF_MAX_SECONDS = int(os.environ.get("WEBHOOK_BACKOFF_MAX_SECONDS", str(6 * 3600)))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_DISPATCH_GRACE_SECONDS = int(os.environ.get("WEBHOOK_DISPATCH_GRACE_SECONDS", "10"))
# A queue of their own keeps slow receivers from delaying emails; workers must then consume it
# (`celery worker -Q celery,webhooks`). Empty: Celery's default queue.
WEBHOOK_QUEUE = os.environ.get("WEBHOOK_QUEUE", "")
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)

PRICE_IMPORT_HOT_FOLDER = Path(
    os.environ.get("PRICE_IMPORT_HOT_FOLDER", BASE_DIR / "var" / "price-imports")
)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.SignInThrottle",  # first: refuses a locked-out account and address
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes, docs/security.md): ten failures for one account from one address
# lock that pair out for fifteen minutes; the storefront and admin sign-in pages and API keys alike.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "storefront.views.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "storefront.lockout.client_username"
AXES_SENSITIVE_PARAMETERS = ["password", "secret"]
# Behind a proxy (production), the client's address is the proxy's X-Forwarded-For entry.
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", "0")) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)
ANONYMOUS_USER_NAME = None  # guardian: anonymous visitors hold no object permissions
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "storefront" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "storefront.api.authentication.ApiKeyAuthentication",
        "storefront.api.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "storefront.api.permissions.HasScope", "storefront.api.permissions.KnownQueryParameters",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "storefront.api.pagination.ApiCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["storefront.api.throttling.PerKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": os.environ.get("API_RATE", "600/minute")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only: a form or multipart body is a 415, and the schema offers JSON alone.
    "DEFAULT_PARSER_CLASSES": ["storefront.api.parsers.ApiJSONParser"],
    "EXCEPTION_HANDLER": "storefront.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
# The largest request body the API reads (a 413 above it): room for the largest price-list upsert.
API_MAX_BODY_BYTES = 10 * 1024 * 1024
SPECTACULAR_SETTINGS = {
    "TITLE": "Storefront API",
    "DESCRIPTION": "Catalogue, prices and orders per account for ERP integrations (docs/api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStateEnum": "ordering.models.OrderState",
        "QuoteStateEnum": "pricing.models.QuoteStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "storefront.api.schema.add_error_responses",
        "storefront.api.examples.add_examples",
    ],
}

# Behavioural segments (docs/segments.md): a buyer is lapsed once the days since its last order
# pass this multiple of its own cadence (median days between orders); a buyer with a single
# order is given the default cadence.
SEGMENTS_LAPSE_MULTIPLE = float(os.environ.get("SEGMENTS_LAPSE_MULTIPLE", "2.0"))
SEGMENTS_DEFAULT_CADENCE_DAYS = float(os.environ.get("SEGMENTS_DEFAULT_CADENCE_DAYS", "90"))
# Run after the segments' own phases by every recompute (name, dotted path of the phase).
SEGMENTS_FOLLOW_UP_PHASES = [
    ("affinities", "merchandising.services.recompute_affinities"),
    # The reporting aggregates' today (segment sets and sizes) follows the new memberships.
    ("aggregates", "insights.services.aggregates.refresh_after_recompute"),
]

# Reporting aggregates (docs/reporting.md): refreshed after orders are placed or change state
# (queued at most once a debounce window, run at its end), every few minutes from beat, after
# each segment recompute, and rebuilt in full every night.
ORDER_CHANGED_TASKS = ["insights.tasks.refresh_aggregates"]
ORDER_CHANGED_DEBOUNCE_SECONDS = int(os.environ.get("ORDER_CHANGED_DEBOUNCE_SECONDS", "30"))
INSIGHTS_REFRESH_SECONDS = float(os.environ.get("INSIGHTS_REFRESH_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["insights-aggregates-refresh"] = {
    "task": "insights.tasks.refresh_aggregates", "schedule": INSIGHTS_REFRESH_SECONDS,
}
CELERY_BEAT_SCHEDULE["insights-aggregates-nightly-rebuild"] = {
    "task": "insights.tasks.rebuild_aggregates", "schedule": crontab(hour=4, minute=15),
}

# Complementary products (docs/recommendations.md): orders of the last MERCHANDISING_HISTORY_DAYS;
# an order with more distinct products than the basket cap is left out; a pair needs the minimum
# support (orders holding both); a segment or cluster is scoped from MIN_SCOPE_ORDERS orders.
MERCHANDISING_HISTORY_DAYS = int(os.environ.get("MERCHANDISING_HISTORY_DAYS", "730"))
MERCHANDISING_BASKET_CAP = int(os.environ.get("MERCHANDISING_BASKET_CAP", "25"))
MERCHANDISING_MIN_SUPPORT = int(os.environ.get("MERCHANDISING_MIN_SUPPORT", "3"))
MERCHANDISING_MIN_SCOPE_ORDERS = int(os.environ.get("MERCHANDISING_MIN_SCOPE_ORDERS", "50"))
# A product the buyer ordered within these days is not put forward as "accounts like yours".
MERCHANDISING_RECENT_DAYS = int(os.environ.get("MERCHANDISING_RECENT_DAYS", "90"))
# Products shown per list, and how long a buyer's list is cached (stock shown may be this old).
MERCHANDISING_SHOWN = int(os.environ.get("MERCHANDISING_SHOWN", "6"))
MERCHANDISING_CACHE_SECONDS = int(os.environ.get("MERCHANDISING_CACHE_SECONDS", "120"))

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "orders@storefront.test")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
