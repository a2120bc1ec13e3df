"""Tandem settings, read from the environment (see .env.example).

Development, test and production differ only in values. Without DATABASE_URL
or REDIS_URL, embedded PostgreSQL and Redis are started under TANDEM_DATA_DIR.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if len(SECRET_KEY) < 50 or not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "Production mode (DJANGO_ENV=production) needs SECRET_KEY (50+ random characters) and ALLOWED_HOSTS."
        )
    if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
        raise ImproperlyConfigured(
            "Production mode needs DATABASE_URL and REDIS_URL; the embedded servers are for development."
        )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-tandem-key-change-me-in-production-0123456789")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])

# Fernet key(s) that seal partners' payout and tax details at rest (core/sealed.py). Several keys,
# comma-separated, rotate: the first seals, every one unseals. Production must set its own.
PAYOUT_DETAILS_KEY = env.str(
    "PAYOUT_DETAILS_KEY", default="" if PRODUCTION else "dGFuZGVtLWRldi1wYXlvdXQtZGV0YWlscy1rZXktMzI="
)
if PRODUCTION and not PAYOUT_DETAILS_KEY:
    raise ImproperlyConfigured(
        "Production mode needs PAYOUT_DETAILS_KEY, a Fernet key: "
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )

DEBUG = env.bool("DEBUG", default=not PRODUCTION and not TESTING)

DATA_DIR = Path(env.str("TANDEM_DATA_DIR", default=str(BASE_DIR / ".data" / "dev")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "ninja",
    "django_otp",  # two-factor sign-in (accounts/two_factor/)
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "partners",
    "referrals",
    "attribution",
    "reporting",
]

MIDDLEWARE = [
    "accounts.scoping.WorkspaceScopingMiddleware",  # a tenant query naming no workspace is an error
    "config.middleware.JsonEdgeMiddleware",  # /api/ and /webhooks/: 413 over the limit, every error as JSON
    "django.middleware.security.SecurityMiddleware",
    "referrals.middleware.ShortLinkMiddleware",  # /r/<code> skips everything below (see its docstring)
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP on every page
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): signed in with a second factor
    "config.form_text.UsableFormTextMiddleware",  # core.text's rule for form fields and query parameters
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.two_factor.middleware.TwoFactorMiddleware",  # a device proven at sign-in; a workspace's requirement
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# The largest request body Tandem reads (a 10,000-event batch is 2-3 MB); /api/ and /webhooks/
# answer a larger one with a JSON 413 before reading it.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

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
                "django.template.context_processors.csp",  # csp_nonce, for the htmx script tag
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.workspaces",
            ],
            "builtins": ["django.templatetags.static", "core.templatetags.money", "core.templatetags.privacy"],
        },
    }
]

# --- Database -----------------------------------------------------------------
if "DATABASE_URL" in os.environ:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    from config.embedded import postgres_database

    DATABASES = {"default": postgres_database(DATA_DIR / "postgres")}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Web processes share a bounded pool of connections (psycopg_pool): the threaded dev server opened
# one per thread and kept it for CONN_MAX_AGE, until PostgreSQL refused everyone ("too many
# clients"). A request that finds the pool exhausted waits DB_POOL_TIMEOUT, then fails alone.
# Celery processes keep one persistent connection each instead (their number is the concurrency,
# and a set of events keeps its backend's warm caches, see CELERY_DB_REUSE_MAX), and so do tests.
CELERY_PROCESS = "celery" in Path(sys.argv[0]).parts[-2:] or Path(sys.argv[0]).name == "celery"
DB_POOL = env.bool("DB_POOL", default=not TESTING and not CELERY_PROCESS)
if DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # pooled connections go back to the pool after each request
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        "max_idle": 60.0,  # idle connections above min_size are closed after a minute
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker --------------------------------------------
if "REDIS_URL" in os.environ:
    REDIS_URL = env.str("REDIS_URL")
else:
    from config.embedded import redis_url

    REDIS_URL = redis_url(DATA_DIR / "redis")


def _kombu_url(url: str) -> str:
    # kombu names redis-over-a-unix-socket differently from redis-py.
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://").split("?")[0]
    return url


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="tandem"),
    }
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_kombu_url(REDIS_URL))
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
# Celery closes the database connection around every task unless told to reuse it, and a set of
# events then pays a new PostgreSQL backend (and its cold caches) each time. Reused instead, and
# checked before each task like a request's (config/celery.py): CONN_MAX_AGE and the health check apply.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
ROLLUP_REFRESH_INTERVAL = env.float("ROLLUP_REFRESH_INTERVAL_SECONDS", default=15.0)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Raw clicks past each workspace's retention (default 25 months), once their days are rolled up.
    "delete-expired-clicks": {
        "task": "reporting.privacy.tasks.delete_expired_clicks",
        "schedule": 86400.0,
        "options": {"expires": 3600},
    },
    "record-heartbeat": {"task": "accounts.tasks.record_heartbeat", "schedule": 300.0},
    # Moves buffered clicks from the Redis stream into PostgreSQL; a stale run is dropped, not queued.
    "flush-clicks": {
        "task": "referrals.tasks.flush_click_buffer",
        "schedule": env.float("CLICK_FLUSH_INTERVAL_SECONDS", default=3.0),
        "options": {"expires": 30},
    },
    "expire-deal-registrations": {"task": "referrals.tasks.expire_deal_registrations", "schedule": 3600.0},
    # Rebuilds today's, yesterday's and every recently touched day's report rollups (reporting/rollups.py):
    # how long a new click or sale takes to reach the dashboard and the stats API.
    "refresh-report-rollups": {
        "task": "reporting.tasks.refresh_recent_rollups",
        "schedule": ROLLUP_REFRESH_INTERVAL,
        "options": {"expires": ROLLUP_REFRESH_INTERVAL},
    },
    # Statements whose email was lost (worker died, mail server down) are sent again.
    "email-unsent-statements": {
        "task": "reporting.payout_tasks.email_unsent_statements",
        "schedule": 900.0,
        "options": {"expires": 600},
    },
    # Re-enqueues inbound events nobody processed (broker down at arrival, worker killed, refund waiting for its sale).
    "sweep-inbound-events": {
        "task": "attribution.tasks.sweep_inbound_events",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Resumes CSV imports whose worker was killed or whose task was lost (attribution/integrations/csv_import.py).
    "resume-stalled-csv-imports": {
        "task": "attribution.csv_tasks.resume_stalled_csv_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Partner performance reports (weekly on Mondays, monthly on the 1st, UTC) and the managers' Monday digest;
    # each recipient is sent once per period (reporting/reports/scheduled.py), so the hourly reruns are no-ops.
    "send-scheduled-reports": {
        "task": "reporting.report_tasks.send_scheduled_reports",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # The fraud signals' days of sales and refunds (attribution/fraud/days.py) stay one row per partner and day.
    "fold-conversion-days": {
        "task": "attribution.tasks.fold_conversion_days",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "approve-due-commissions": {
        "task": "attribution.tasks.approve_due_commissions",
        "schedule": 600.0,
        "options": {"expires": 550},
    },
    # Rechecks the DNS of domains still waiting for their tandem-verify record.
    "recheck-pending-domains": {
        "task": "accounts.tasks.recheck_pending_domains",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Payout runs whose worker died mid-run carry on (same idempotency keys: nothing is paid twice).
    "resume-payout-runs": {
        "task": "reporting.payouts.runs.tasks.resume_payout_runs",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Partner notification emails whose task was lost (partners/notifications/sending.py).
    "send-unsent-notifications": {
        "task": "partners.notifications.tasks.send_unsent_notifications",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Partners' weekly summary, Mondays (UTC); once per partner and week, so the hourly reruns are no-ops.
    "send-weekly-digests": {
        "task": "reporting.reports.partner_digest.send_weekly_digests",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "purge-idempotency-keys": {
        "task": "attribution.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Sends outbound webhook deliveries that are due and have no task (retries hours away, a lost task).
    "sweep-webhook-deliveries": {
        "task": "accounts.outbound.tasks.sweep_webhook_deliveries",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
# Every module that defines tasks, and the only way they register: a worker imports these at start
# (nothing imports a task module from a model or an app config). tests/test_celery_tasks.py keeps it whole.
CELERY_IMPORTS = (
    "accounts.tasks",
    "accounts.outbound.tasks",
    "referrals.tasks",
    "attribution.tasks",
    "attribution.integrations.tasks",
    "reporting.tasks",
    "reporting.payouts.tasks",
    "reporting.payouts.runs.tasks",
    "reporting.reports.tasks",
    "reporting.privacy.tasks",
    "partners.notifications.tasks",
    "reporting.reports.partner_digest",
    "partners.imports.tasks",
)

# --- Outbound webhooks (accounts/outbound/) ----------------------------------------
# Seconds between attempts after the first try (Svix's schedule); then the delivery has failed.
WEBHOOK_RETRY_DELAYS = env.list("WEBHOOK_RETRY_DELAYS", cast=float, default=[5, 300, 1800, 7200, 18000, 36000, 36000])
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Loopback receivers (127.0.0.1, ::1, localhost) are refused except in development, so a local receiver works.
WEBHOOK_ALLOW_LOOPBACK = env.bool("WEBHOOK_ALLOW_LOOPBACK", default=DJANGO_ENV == "development")
# The Celery queue deliveries go to ("celery", every worker's default); a queue of their own keeps slow
# receivers from holding up other work when a worker is started for it.
WEBHOOK_DELIVERY_QUEUE = env.str("WEBHOOK_DELIVERY_QUEUE", default="celery")
# The sweep leaves a due delivery this long to its own task before queueing it again.
WEBHOOK_SWEEP_GRACE_SECONDS = env.int("WEBHOOK_SWEEP_GRACE_SECONDS", default=30)

# --- Referrals: the short-link redirect ------------------------------------------
# Extra secret mixed into the daily salt of the click IP hashes (with SECRET_KEY and the date).
CLICK_IP_SALT = env.str("CLICK_IP_SALT", default="")
# How many reverse proxies in front of Tandem append to X-Forwarded-For (0: use REMOTE_ADDR).
CLICK_TRUSTED_PROXIES = env.int("CLICK_TRUSTED_PROXIES", default=0)
# The redirect's Redis round trip gives up after this long and records the click in PostgreSQL
# instead; it then leaves Redis alone for the retry interval (referrals/clicks/recording.py).
CLICK_REDIS_TIMEOUT_SECONDS = env.float("CLICK_REDIS_TIMEOUT_SECONDS", default=0.05)
CLICK_REDIS_RETRY_SECONDS = env.float("CLICK_REDIS_RETRY_SECONDS", default=1.0)
# The longest a lead or sale waits for the click it names to leave the click buffer (attribution/click_wait.py).
CLICK_WAIT_SECONDS = env.int("CLICK_WAIT_SECONDS", default=600)
# Adds /bench/302, the baseline of `make bench BENCH=redirect`. Never on in production.
TANDEM_BENCH_ENDPOINTS = env.bool("TANDEM_BENCH_ENDPOINTS", default=False) and not PRODUCTION

# --- Auth -----------------------------------------------------------------------
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# An account locks after AXES_FAILURE_LIMIT failed sign-ins from anywhere; an address after
# AXES_IP_FAILURE_LIMIT across any accounts (higher: many people may share one office address).
# accounts/login_throttle.py holds each count to its own limit.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "accounts.login_throttle.AccountAndAddressHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.login_throttle.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Two-factor sign-in (accounts/two_factor/): the name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Tandem")
# Partner emails about new referrals and commissions leave this long after the event, so that a burst
# is told in one email per partner (partners/notifications/sending.py).
PARTNER_EMAIL_DELAY_SECONDS = env.int("PARTNER_EMAIL_DELAY_SECONDS", default=60)

# Destination domains are proven by a DNS TXT record (accounts/domains.py). DNS_RESOLVER names the
# servers to ask ("127.0.0.1:5353", comma-separated); empty means the system's resolver.
DNS_RESOLVER = env.str("DNS_RESOLVER", default="")
DNS_TIMEOUT_SECONDS = env.float("DNS_TIMEOUT_SECONDS", default=3.0)

STAFF_INVITATION_MAX_AGE_DAYS = env.int("STAFF_INVITATION_MAX_AGE_DAYS", default=7)
PARTNER_INVITATION_MAX_AGE_DAYS = env.int("PARTNER_INVITATION_MAX_AGE_DAYS", default=14)

# --- Email ----------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(DATA_DIR / "mail"))
if "EMAIL_URL" in os.environ:
    globals().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tandem <no-reply@tandem.localhost>")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Stripe's API for payout transfers: STRIPE_API_BASE points it elsewhere (tests use a local stand-in).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=30.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

# --- i18n / static ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media/"

# --- Security ----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts and style sheets only from Tandem itself (the htmx tag carries the request's nonce), no
# plugins, no framing, forms post only here. Style *attributes* stay allowed: they cannot run code,
# and the server-drawn charts and many templates position things with them.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "https:"],  # https: a workspace's logo given by address (accounts/branding.py)
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}
