"""Django settings: every deployment-specific value comes from the environment (or .env)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# --- Environment loading ---------------------------------------------------------------------
# A .env at the project root is for local development; real environment variables win over it.
# Tests set SMSAPP_IGNORE_DOTENV so a developer's .env can never leak into a test run.
if not os.environ.get("SMSAPP_IGNORE_DOTENV") and (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def _str(name: str, default: str = "") -> str:
    # Not env.str(): django-environ treats a value starting with "$" as a reference to another
    # variable, and generated secrets and passwords can start with "$".
    return os.environ.get(name, default)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, default: bool) -> bool:
    # Not env.bool(): it reads every unknown word as False, so DEBUG=ture would quietly mean off.
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be true or false, not {raw[:20]!r}: set {name}=true or {name}=false"
    )


def _positive_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds, e.g. {name}=15")
    return value


_DATABASE_URL_FORMS = (
    "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:////absolute/path/db.sqlite3"
)
_DATABASE_SCHEMES = {"postgres", "postgresql", "sqlite"}


def _database_from_url(url: str) -> dict[str, Any]:
    """Parse DATABASE_URL; errors never echo the URL, which may contain a password."""

    def malformed(problem: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(
            f"DATABASE_URL {problem}: set DATABASE_URL={_DATABASE_URL_FORMS}"
        )

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a non-numeric port
    except ValueError:
        raise malformed("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _DATABASE_SCHEMES or not url.lower().startswith(f"{scheme}://"):
        # Name the scheme only when it is clearly one: in "user:pass@host" it is the username.
        shown = f" ({scheme!r} is not supported)" if url.startswith(f"{parts.scheme}://") else ""
        raise malformed(f"is not a PostgreSQL or SQLite URL{shown}")
    if scheme == "sqlite" and parts.path in ("", "/") and url != "sqlite://:memory:":
        # django-environ would quietly give an in-memory database, which each process has its own
        # copy of: the web process and the workers would never see each other's rows.
        raise malformed("has no database file path")
    try:
        config = env.db_url_config(url)
    except Exception:
        # django-environ's own messages can quote the URL, password included.
        raise malformed("could not be parsed") from None
    if not config.get("NAME"):
        raise malformed("has no database name")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # select_for_update() is a no-op on SQLite; IMMEDIATE (Django 5.1+) takes the write lock
        # at BEGIN so concurrent writers queue for up to `timeout` seconds instead of failing
        # with "database is locked" halfway through a transaction.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
    return config


# --- Core ------------------------------------------------------------------------------------
DEBUG = _bool("DEBUG", default=False)

SECRET_KEY = _str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set SECRET_KEY in the environment or .env (generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true for local development"
        )
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Origins allowed to POST forms when the site is served under another name or port, e.g.
# https://sms.example.com (Django checks the Origin header against these and the host).
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind HTTPS (a TLS-terminating proxy): cookies only over HTTPS, and trust the proxy's
# X-Forwarded-Proto. Off by default so a plain-HTTP local run can sign in.
SECURE_COOKIES = _bool("SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
if SECURE_COOKIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Health checks come over plain HTTP from inside the container network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz"]
    SECURE_HSTS_SECONDS = 30 * 24 * 3600

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "auth_tokens",
    "smsapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "smsapp.middleware.BrowserTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "smsapp.urls"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "smsapp:compose"
LOGOUT_REDIRECT_URL = "login"
WSGI_APPLICATION = "smsapp.wsgi.application"

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
                "smsapp.health.sending_banner",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
# PostgreSQL in production and tests; SQLite only for quick local runs.
DATABASES = {
    "default": _database_from_url(
        _str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation and time -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves collected static files from the app server itself (gunicorn in
# docker-compose), compressed. Not the manifest variant: it would make every page fail until
# collectstatic has run, which tests and quick local runs do not do.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# In development, serve straight from the apps' static folders without collectstatic.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = _str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# JSON only: pickle would let anyone who can write to the broker run code in the worker.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Ack after the task finishes, and requeue if the worker dies mid-task, so a killed worker's SMS
# task is redelivered; the send task is idempotent, so a redelivery cannot text anyone twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: a prefetched message waits behind a slow send.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers any message not acked within visibility_timeout, even if a worker is still
# running it (or holding it as an ETA task). An hour is far beyond any send; scheduled sends use
# send_at in the database and a periodic dispatcher, never ETAs longer than this.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _positive_float("CELERY_VISIBILITY_TIMEOUT", 3600.0)
}
# Seconds between runs of the periodic SMS tasks.
SMS_DISPATCH_INTERVAL = _positive_float("SMS_DISPATCH_INTERVAL", 5.0)
SMS_SWEEP_INTERVAL = _positive_float("SMS_SWEEP_INTERVAL", 10.0)
SMS_STATUS_POLL_INTERVAL = _positive_float("SMS_STATUS_POLL_INTERVAL", 15.0)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Refresh ahead of expiry (auth_tokens.services.keep_alive): an idle deployment never lets
    # its 7-day refresh token lapse, and senders rarely wait on a refresh.
    "ringcentral-token-keep-alive": {"task": "auth_tokens.keep_alive", "schedule": 300.0},
    # Scheduled texts live in the database (send_at) and this short-period dispatcher queues
    # them when due: long Celery ETAs on Redis are redelivered after visibility_timeout.
    "sms-dispatch-due": {"task": "smsapp.dispatch_due", "schedule": SMS_DISPATCH_INTERVAL},
    # Messages stuck in "sending" (worker killed) or "uncertain": reconcile with RingCentral.
    "sms-reconcile-stuck": {"task": "smsapp.reconcile_stuck", "schedule": SMS_SWEEP_INTERVAL},
    # Sent -> delivered/failed from RingCentral's message store, with backoff per message.
    "sms-check-delivery": {"task": "smsapp.check_delivery", "schedule": SMS_STATUS_POLL_INTERVAL},
}

# --- RingCentral -----------------------------------------------------------------------------
RINGCENTRAL_SERVER_URL = _str("RINGCENTRAL_SERVER_URL", "https://platform.ringcentral.com")
RINGCENTRAL_CLIENT_ID = _str("RINGCENTRAL_CLIENT_ID")
RINGCENTRAL_CLIENT_SECRET = _str("RINGCENTRAL_CLIENT_SECRET")
RINGCENTRAL_USERNAME = _str("RINGCENTRAL_USERNAME")
RINGCENTRAL_EXTENSION = _str("RINGCENTRAL_EXTENSION")
RINGCENTRAL_PASSWORD = _str("RINGCENTRAL_PASSWORD")
# When set, logins use the JWT grant instead of the password grant.
RINGCENTRAL_JWT = _str("RINGCENTRAL_JWT")
# Seconds for one HTTP call to RingCentral (connect and read each). The token row lock waits for
# at most two such calls (a refresh, then a login) plus a margin; see auth_tokens.services.
RINGCENTRAL_HTTP_TIMEOUT = _positive_float("RINGCENTRAL_HTTP_TIMEOUT", 15.0)
# Fernet key(s) that encrypt stored tokens, comma-separated: the first encrypts, all decrypt, so
# a key can be rotated. Generate one with: python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())". When unset, a key is derived from SECRET_KEY, so
# changing SECRET_KEY means one fresh login (stored tokens can no longer be read).
TOKEN_ENCRYPTION_KEY = _str("TOKEN_ENCRYPTION_KEY")

# --- SMS -------------------------------------------------------------------------------------
# E.164 sender number; it must be SMS-enabled on the RingCentral extension.
SMS_FROM_NUMBER = _str("SMS_FROM_NUMBER")
# How texts leave: "ringcentral" (the real thing), "console" (printed, for development) or
# "locmem" (kept in memory, for tests), or a dotted path to a BaseSmsBackend subclass.
SMS_BACKEND = _str("SMS_BACKEND", "ringcentral")
# Redis for state every worker shares: the fleet-wide rate limit and 429 pause.
REDIS_URL = _str("REDIS_URL") or CELERY_BROKER_URL
# SMS sends per minute for the whole fleet (RingCentral's Medium group is 40 by default); the
# limiter also follows RingCentral's X-Rate-Limit-* headers when they say less.
SMS_RATE_LIMIT_PER_MINUTE = int(_positive_float("SMS_RATE_LIMIT_PER_MINUTE", 40))
# Transient failures (5xx, timeouts before sending) are retried with exponential backoff and
# jitter, from SMS_RETRY_BASE_SECONDS up to SMS_RETRY_MAX_SECONDS, at most SMS_MAX_ATTEMPTS.
SMS_MAX_ATTEMPTS = int(_positive_float("SMS_MAX_ATTEMPTS", 5))
SMS_RETRY_BASE_SECONDS = _positive_float("SMS_RETRY_BASE_SECONDS", 10.0)
SMS_RETRY_MAX_SECONDS = _positive_float("SMS_RETRY_MAX_SECONDS", 600.0)
# How long a text waits for a RingCentral login problem (throttled, rejected credentials) to
# clear before it fails with a reason that names the problem.
SMS_AUTH_HOLD_SECONDS = _positive_float("SMS_AUTH_HOLD_SECONDS", 3600.0)
# A claimed send holds a lease on its row, renewed while its attempt runs; when the lease lapses
# (the worker died) the sweeper settles the send at once against RingCentral's message store.
SMS_LEASE_SECONDS = _positive_float("SMS_LEASE_SECONDS", 10.0)
# Backstop: a send still "sending" after this many seconds is settled even if its lease is
# renewed (a hung attempt). Unset, it is derived from the slowest possible attempt (see
# smsapp.timing), which is what it must exceed; a start-up check refuses a smaller value.
SMS_STALE_SENDING_SECONDS = _positive_float("SMS_STALE_SENDING_SECONDS", 0.0) or None
# A text whose outcome is uncertain (the connection dropped after the request left) counts as
# not sent only if RingCentral's message store still lacks it this many seconds after the
# attempt: a lookup made at once could miss a text that is still being recorded.
SMS_UNCERTAIN_SETTLE_SECONDS = _positive_float("SMS_UNCERTAIN_SETTLE_SECONDS", 30.0)
# A queued message whose task has not started this long after it was queued is queued again
# (its task was lost, e.g. the broker was down at commit time). Tasks reserved by a worker that
# died are queued again sooner, once its heartbeat stops (smsapp.heartbeats). A duplicate task
# is harmless: the claim lets one through. Must stay below the broker's visibility_timeout.
SMS_REDISPATCH_SECONDS = _positive_float("SMS_REDISPATCH_SECONDS", 300.0)
# At most this many recipients in one send (form, send_sms, the service): a slip of the paste
# must not queue hours of RingCentral's limit in one click.
SMS_MAX_RECIPIENTS = int(_positive_float("SMS_MAX_RECIPIENTS", 100))
# Above this many recipients the form asks for a confirmation showing the count and segments.
SMS_CONFIRM_RECIPIENTS_ABOVE = int(_positive_float("SMS_CONFIRM_RECIPIENTS_ABOVE", 10))
# A text can be scheduled at most this many days ahead.
SMS_MAX_SCHEDULE_DAYS = int(_positive_float("SMS_MAX_SCHEDULE_DAYS", 365))
# Default region for numbers typed without a country code (ISO 3166 code, e.g. US, GB).
SMS_DEFAULT_REGION = _str("SMS_DEFAULT_REGION", "US")
