"""Django settings: every deployment-specific value comes from the environment (or .env)."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
import phonenumbers
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
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


def _show(value: float) -> str:
    # 1000000, not 1e+06: the bound is quoted back to a person typing it into .env.
    return str(int(value)) if float(value).is_integer() else str(value)


def _number(
    name: str,
    default: float | None,
    *,
    maximum: float,
    minimum: float | None = None,
    above: float | None = None,
    integer: bool = False,
    unit: str = "",
    example: float | None = None,
) -> float | None:
    """A finite number within [minimum, maximum] (or (above, maximum]); unset means default.

    Every numeric setting needs an upper bound as well as a lower one: float("inf") parses, and
    an infinite or huge value ends in an OverflowError deep inside a send (timedelta, range)
    rather than here. A whole number is required where the code counts (attempts, texts a
    minute): 0.5 a minute used to become 0 and made the rate limiter's script fail every send.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    low = f"from {_show(minimum)}" if minimum is not None else f"above {_show(above or 0)}"
    high = "to" if minimum is not None else "and at most"
    kind = "a whole number" if integer else "a number"
    rule = f"{kind}{f' of {unit}' if unit else ''} {low} {high} {_show(maximum)}"
    try:
        value: float = int(raw, 10) if integer else float(raw)
    except ValueError:
        value = math.nan
    in_range = math.isfinite(value) and value <= maximum
    if minimum is not None:
        in_range = in_range and value >= minimum
    else:
        in_range = in_range and value > (above or 0)
    if not in_range:
        shown = example if example is not None else default
        shown = maximum if shown is None else shown
        raise ImproperlyConfigured(
            f"{name} must be {rule}, not {raw[:20]!r}: e.g. {name}={_show(shown)}"
        )
    return value


def _seconds(name: str, default: float, *, maximum: float, above: float = 0.0) -> float:
    value = _number(name, default, maximum=maximum, above=above, unit="seconds")
    return float(default if value is None else value)


def _whole(name: str, default: int, *, minimum: int, maximum: int) -> int:
    value = _number(name, default, minimum=minimum, maximum=maximum, integer=True)
    return int(default if value is None else value)


_MINUTE, _HOUR, _DAY = 60, 3600, 86400


def _http_url(name: str, default: str, example: str) -> str:
    """An http(s) URL with a host and nothing after it. The value is never echoed: a URL can
    carry a password, and a person can paste a secret into the wrong variable."""
    raw = _str(name, default)

    def refuse(problem: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(
            f"{name} {problem}: it must be an http(s) URL with a host and nothing after it, "
            f"e.g. {name}={example}"
        )

    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise refuse("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not raw.lower().startswith(f"{parts.scheme}://"):
        raise refuse("does not start with http:// or https://")
    if not parts.hostname:
        raise refuse("has no host")
    if parts.username is not None or parts.password is not None:
        raise refuse("has a user or password in it")
    if parts.path not in ("", "/") or parts.query or parts.fragment or raw.endswith(("?", "#")):
        # The app appends /restapi/...; a path here would be silently doubled or dropped.
        raise refuse("has a path or query after the host")
    return raw


def _fernet_keys(name: str) -> str:
    """Comma-separated Fernet keys, or empty (derive one from SECRET_KEY). Checked now: a bad
    key used to pass `check` and then fail every signed-in page and /healthz with a 500."""
    raw = _str(name)
    if not raw:
        return raw
    keys = [key.strip() for key in raw.split(",")]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            which = f"key {position} of {len(keys)}" if len(keys) > 1 else "it"
            raise ImproperlyConfigured(
                f"{name} must be one or more comma-separated Fernet keys (44 URL-safe base64 "
                f"characters each) and {which} is not: generate one with: python -c "
                '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from None
    return raw


def _region(name: str, default: str) -> str:
    raw = _str(name, default).strip().upper()
    if raw not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(
            f"{name} must be a region code that phone numbers are parsed in (ISO 3166, as "
            f"libphonenumber knows them), not {raw[:20]!r}: e.g. {name}=US or {name}=GB"
        )
    return raw


# Host names that only this machine can reach: the debug page is acceptable only for them.
_LOCAL_HOSTS = {"localhost", ".localhost", "127.0.0.1", "[::1]", "::1"}


def _is_local_host(host: str) -> bool:
    host = host.strip().lower()
    if host in _LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
_non_local_hosts = [host for host in ALLOWED_HOSTS if not _is_local_host(host)]
if DEBUG and _non_local_hosts:
    # The debug page shows settings, code and request data; smsapp.error_reporting hides the
    # secrets on it, but a site others can reach must not show its insides at all.
    raise ImproperlyConfigured(
        f"DEBUG=true is refused with ALLOWED_HOSTS={','.join(_non_local_hosts)[:60]}: the debug "
        "page shows settings and code to anyone who can reach the site; set DEBUG=false, or "
        "for a local run ALLOWED_HOSTS=localhost,127.0.0.1,[::1]"
    )
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
    # Health checks and Prometheus's scrapes come over plain HTTP inside the container network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz", r"^metrics$"]
    # 30 days. `check --deploy` still warns about includeSubDomains (security.W005) and
    # preload (security.W021) on purpose: both bind every subdomain of the operator's domain,
    # which this app cannot know is all HTTPS, and preload cannot be undone quickly (README).
    SECURE_HSTS_SECONDS = 30 * 24 * 3600
# Behind a proxy every request comes from the proxy's address, so the per-address login
# lockout would lock everyone out at once. A proxy that appends the client's address to
# X-Forwarded-For fixes that, but the header is the client's to forge except for the entries
# our own proxies appended: the address is read from the right, this many entries in
# (smsapp.settings.client_ip_address). Default: one proxy when SECURE_COOKIES says there is a
# TLS proxy in front, none otherwise (then X-Forwarded-For is ignored).
TRUSTED_PROXY_COUNT = _whole(
    "TRUSTED_PROXY_COUNT", 1 if SECURE_COOKIES else 0, minimum=0, maximum=5
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "auth_tokens",
    "smsapp",
    "conversations",
    "campaigns",
    "recurring",
    "monitoring",
    "axes",
    "csp",
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
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
# Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator(): the bulk
# results export, data migrations) can land on another server connection mid-read: turn them
# off there. Row locks (select_for_update) live inside one transaction and are unaffected.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = _bool(
    "DATABASE_BEHIND_TRANSACTION_POOLER", default=False
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security: sign-in throttling, sessions, error pages, CSP --------------------------------
# django-axes counts failed sign-ins (ours and the admin's) in the database, so every web
# process sees the same count. Its backend goes first: it refuses a locked-out sign-in before
# the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords lock out that user name (from anywhere) and that address (for any user
# name) for 15 minutes: guessing drops to 20 tries an hour per account, while a person who
# mistypes a few times is not stopped. The cost: an office behind one NAT address shares the
# address's five tries, and anyone can keep a known user name locked out (a try every 15
# minutes); an admin lifts a lock with `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Every attempt during a lockout (even with the right password) starts the 15 minutes again
# (django-axes' default), so the lockout page's "try again in 15 minutes" is exact.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# Not reset by a successful sign-in: the reset clears the address's count too, so anyone with
# one account could sign in after every four guesses at another and never be locked out.
AXES_RESET_ON_SUCCESS = False
# Failures are what lockouts need; a row per successful sign-in would grow without bound.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# No "AXES: BEGIN version ..." line on stderr from every manage.py command and worker start.
AXES_VERBOSE = False


def client_ip_address(request: Any) -> str | None:
    """The address a login attempt counts against: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT
    proxies in front, the X-Forwarded-For entry the outermost of them appended."""
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if count and len(forwarded) >= count and forwarded[-count]:
        try:
            # A stored address must be one (axes keeps it in an IP address column).
            return str(ipaddress.ip_address(forwarded[-count]))
        except ValueError:
            pass
    return remote


AXES_CLIENT_IP_CALLABLE = client_ip_address

# Sessions end after SESSION_IDLE_TIMEOUT_SECONDS without a request (each request saves the
# session and so moves its expiry; the database row's expiry is what is checked, whatever the
# browser keeps) and when the browser closes. One hour: between NIST SP 800-63B's 30 minutes
# of inactivity for AAL2 and a working day; a signed-in browser can text anyone in the
# organisation's name. The cost: a sign-in after each longer break, and one session write per
# request (the history page's status polling included, which also keeps an open page alive).
SESSION_IDLE_TIMEOUT_SECONDS = _whole(
    "SESSION_IDLE_TIMEOUT_SECONDS", _HOUR, minimum=_MINUTE, maximum=30 * _DAY
)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_SECONDS
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Error pages and reports hide secrets even with DEBUG on: RINGCENTRAL_*, JWTs, passwords in
# *_URL values, and the token requests' local variables (Django's own filter does none of that
# with DEBUG on, and hides only names with API, TOKEN, KEY, SECRET, PASS, SIGNATURE).
DEFAULT_EXCEPTION_REPORTER_FILTER = "smsapp.error_reporting.SecretsHiddenReporterFilter"

# Content-Security-Policy (django-csp 4 format): scripts, styles and fetches from this site
# only, never inline, so an injected <script> or onclick= cannot run even if escaping failed;
# no framing (clickjacking), no <base> or plugin tricks, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

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
# LOG_FORMAT=json: one JSON object per line, with message_id, ringcentral_request_id and
# error_code when known (smsapp.log_format); "text" (the default) is for people. Both redact.
LOG_FORMAT = _str("LOG_FORMAT", "text").strip().lower() or "text"
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(
        f"LOG_FORMAT must be text or json, not {LOG_FORMAT[:20]!r}: e.g. LOG_FORMAT=json"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "smsapp.log_format.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        },
        "json": {"()": "smsapp.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        },
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    # runserver's request lines have a handler of their own (Django's): JSON too when asked.
    "loggers": (
        {"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}}
        if LOG_FORMAT == "json"
        else {}
    ),
}

# --- Metrics (docs/metrics.md) ---------------------------------------------------------------
# /metrics answers only a request with "Authorization: Bearer <METRICS_TOKEN>"; unset, the
# endpoint does not exist (404). Generate one with: python -c "import secrets;
# print(secrets.token_urlsafe(32))".
METRICS_TOKEN = _str("METRICS_TOKEN").strip()
# Each process group (web, worker) writes its counts to its own PROMETHEUS_MULTIPROC_DIR,
# <shared directory>/<group>; /metrics adds up every group found in the shared directory.
_multiproc_dir = _str("PROMETHEUS_MULTIPROC_DIR").strip()
METRICS_DIR = str(Path(_multiproc_dir).parent) if _multiproc_dir else ""

# --- Celery ----------------------------------------------------------------------------------
# Redis (redis://, rediss://) or RabbitMQ (amqp://, amqps://); docs/brokers.md compares them.
CELERY_BROKER_URL = _str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
BROKER_IS_RABBITMQ = urlsplit(CELERY_BROKER_URL).scheme in ("amqp", "amqps", "pyamqp")
# JSON only: pickle would let anyone who can write to the broker run code in the worker.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Ack after the task finishes, and requeue if the worker dies mid-task, so a killed worker's SMS
# task is redelivered; the send task is idempotent, so a redelivery cannot text anyone twice.
# Redis hands an unacked task out again after visibility_timeout; RabbitMQ only when the
# connection of the worker that holds it closes (docs/brokers.md).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: a prefetched message waits behind a slow send.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if BROKER_IS_RABBITMQ:
    # Quorum queues: replicated, durable, and a message is not lost with one RabbitMQ node.
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    # Quorum queues have no global QoS: the worker must detect them and use per-consumer QoS,
    # and then ETA/countdown tasks need RabbitMQ's native delayed delivery (the dispatcher's
    # countdowns), which Celery sets up on its own but skips for a direct exchange.
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_BROKER_NATIVE_DELAYED_DELIVERY_QUEUE_TYPE = "quorum"
    # Publisher confirms: send_task returns only once RabbitMQ has taken the message.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {"confirm_publish": True}
else:
    # Redis redelivers any message not acked within visibility_timeout, even if a worker is
    # still running it (or holding it as an ETA task). An hour is far beyond any send; scheduled
    # sends use send_at in the database and a periodic dispatcher, never ETAs longer than this.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _seconds("CELERY_VISIBILITY_TIMEOUT", 3600.0, maximum=7 * _DAY)
    }
# Seconds between runs of the periodic SMS tasks.
SMS_DISPATCH_INTERVAL = _seconds("SMS_DISPATCH_INTERVAL", 5.0, maximum=_HOUR)
SMS_SWEEP_INTERVAL = _seconds("SMS_SWEEP_INTERVAL", 5.0, maximum=_HOUR)
SMS_STATUS_POLL_INTERVAL = _seconds("SMS_STATUS_POLL_INTERVAL", 15.0, maximum=_HOUR)
# How often RingCentral's reachability is probed (an unauthenticated GET, no rate-limit slot):
# an outage shows on /healthz and the staff banner within about two probes.
SMS_PROBE_INTERVAL = _seconds("SMS_PROBE_INTERVAL", 20.0, maximum=_HOUR)
# A text still waiting this many minutes after it was due counts as a problem on /healthz and
# the banner (a big bulk send at 40 a minute legitimately keeps its tail waiting for a while).
SMS_HEALTH_WAITING_MINUTES = _whole("SMS_HEALTH_WAITING_MINUTES", 30, minimum=1, maximum=1440)
# A recurring send's time missed by more than this (no beat ran: an outage, a deploy) is
# recorded as skipped rather than sent late; of the ones missed by less, only the latest goes.
SMS_RECURRING_MISSED_GRACE_SECONDS = _seconds(
    "SMS_RECURRING_MISSED_GRACE_SECONDS", 300.0, maximum=7 * _DAY
)
# --- Alerts by email (monitoring) -------------------------------------------------------------
# Who gets the alert emails (monitoring.services.alerts, through Django's mail_admins): comma-
# separated addresses, each optionally with a name ("Ops <ops@example.com>, kim@example.com").
# Empty: no alert is emailed (the dashboard says so).


def _admins(name: str) -> list[tuple[str, str]]:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    admins = []
    for part in (p.strip() for p in _str(name).split(",")):
        if not part:
            continue
        match = re.fullmatch(r"(?:(?P<name>[^<>]*)<(?P<address>[^<>]+)>|(?P<bare>[^<>\s]+))", part)
        address = (match.group("address") or match.group("bare") or "").strip() if match else ""
        try:
            validate_email(address)
        except ValidationError:
            raise ImproperlyConfigured(
                f"{name} must be email addresses separated by commas, each alone or as "
                f"'Name <address>', not {part[:40]!r}: e.g. {name}=Ops <ops@example.com>"
            ) from None
        admins.append((((match.group("name") or "").strip() if match else "") or address, address))
    return admins


ADMINS = _admins("ADMINS")
# How email leaves: an URL (django-environ's form), e.g. smtp+tls://user:password@host:587,
# smtp://localhost:25, consolemail:// (printed in the log). Default: the console with DEBUG on
# (./scripts/run shows alerts in its log), else SMTP on localhost:25. Never echoed: it can
# carry a password.
_email_url = _str("EMAIL_URL") or ("consolemail://" if DEBUG else "smtp://localhost:25")
try:
    _email = environ.Env.email_url_config(_email_url)
except (ImproperlyConfigured, ValueError):
    raise ImproperlyConfigured(
        "EMAIL_URL must be an email URL such as smtp+tls://user:password@host:587, "
        "smtp://localhost:25 or consolemail://"
    ) from None
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
# filemail:///abs/path: a file per email there (django-environ would drop the leading "/").
EMAIL_FILE_PATH = urlsplit(_email_url).path or None
SERVER_EMAIL = _str("SERVER_EMAIL", "sms-alerts@localhost")
EMAIL_SUBJECT_PREFIX = "[RingCentral SMS] "
EMAIL_TIMEOUT = 10
# Alert when a queued text has waited this long past its time (once an hour at most).
ALERT_QUEUED_MINUTES = _whole("ALERT_QUEUED_MINUTES", 5, minimum=1, maximum=1440)
# Alert when the refresh token expires within this many hours while renewals keep failing.
ALERT_REFRESH_HOURS = _whole("ALERT_REFRESH_HOURS", 24, minimum=1, maximum=24 * 30)
# --- Bulk sends (campaigns) ---------------------------------------------------------------------
# The most lines one bulk send may have: its own cap, apart from SMS_MAX_RECIPIENTS (one send
# from the form). 10,000 is RingCentral's figure for one A2P request.
SMS_MAX_BULK_RECIPIENTS = _whole("SMS_MAX_BULK_RECIPIENTS", 10_000, minimum=1, maximum=250_000)
# A number with RingCentral's A2PSmsSender feature: when set, bulk sends go out from it in
# high-volume batches (docs/ringcentral.md#high-volume-sms); empty: one text at a time through
# the standard SMS API and the fleet's limit, from SMS_FROM_NUMBER.
SMS_A2P_FROM_NUMBER = _str("SMS_A2P_FROM_NUMBER").strip()
if SMS_A2P_FROM_NUMBER and not re.fullmatch(r"\+[1-9]\d{6,14}", SMS_A2P_FROM_NUMBER):
    raise ImproperlyConfigured(
        "SMS_A2P_FROM_NUMBER must be an E.164 number with RingCentral's A2PSmsSender feature, "
        "e.g. SMS_A2P_FROM_NUMBER=+15551230100 (empty: no high-volume batches)"
    )
# Texts per A2P request. RingCentral's documents quote 10,000 texts or about 50 MB a request;
# smaller batches start sooner and lose less time to one slow request.
SMS_A2P_BATCH_SIZE = _whole("SMS_A2P_BATCH_SIZE", 1000, minimum=1, maximum=10_000)

# --- Inbound texts (conversations) -------------------------------------------------------------
# How often RingCentral's message sync is read for replies (Light group: 6 a minute at 10 s,
# out of the fleet's 40; docs/ringcentral.md#rate-limits). A reply shows within about this.
INBOUND_SYNC_INTERVAL = _seconds("INBOUND_SYNC_INTERVAL", 10.0, maximum=_HOUR, above=0.1)
# While the webhook subscription works, replies come by webhook within a second and the sync
# only catches notifications that were lost (RingCentral's retry policy is not documented).
INBOUND_SYNC_INTERVAL_WITH_WEBHOOK = _seconds(
    "INBOUND_SYNC_INTERVAL_WITH_WEBHOOK", 300.0, maximum=_DAY, above=0.1
)
# This app's public HTTPS address of /ringcentral/webhook, e.g.
# https://sms.example.com/ringcentral/webhook. Empty: no webhook, replies by polling only.
RINGCENTRAL_WEBHOOK_URL = _str("RINGCENTRAL_WEBHOOK_URL").strip()


def _webhook_url_problem(raw: str) -> str | None:
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        return "has a user or password in it (RingCentral proves itself with a token instead)"
    return None


if RINGCENTRAL_WEBHOOK_URL and (_problem := _webhook_url_problem(RINGCENTRAL_WEBHOOK_URL)):
    # The value is never echoed: a URL can carry a password.
    raise ImproperlyConfigured(
        f"RINGCENTRAL_WEBHOOK_URL {_problem}: it must be this app's public address of "
        "/ringcentral/webhook, e.g. https://sms.example.com/ringcentral/webhook"
    )
# How often beat looks after the webhook subscription (its status is read at most every 5
# minutes; creating or renewing happens when due).
INBOUND_WEBHOOK_CHECK_INTERVAL = _seconds(
    "INBOUND_WEBHOOK_CHECK_INTERVAL", 60.0, maximum=_HOUR, above=0.5
)
# The subscription's lifetime, renewed a day (or a third of it) before it ends. A week:
# RingCentral allows up to ten years, but a shorter one disappears by itself if the app does.
RINGCENTRAL_WEBHOOK_EXPIRES_IN = _whole(
    "RINGCENTRAL_WEBHOOK_EXPIRES_IN", 7 * _DAY, minimum=60, maximum=315_360_000
)

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
    # Is RingCentral answering at all? A health fact for /healthz and the banner.
    "sms-probe-ringcentral": {"task": "smsapp.probe_ringcentral", "schedule": SMS_PROBE_INTERVAL},
    # Replies: RingCentral's message sync, run when due (conversations.services.sync decides:
    # INBOUND_SYNC_INTERVAL, or the slower one while a webhook subscription works).
    "conversations-sync": {
        "task": "conversations.sync_messages",
        "schedule": INBOUND_SYNC_INTERVAL,
    },
    # Bulk sends: scheduled ones started when due, running ones fed (a minute's worth into the
    # pipeline, or A2P batches); uncertain A2P batches settled; A2P statuses read.
    "campaigns-feed": {"task": "campaigns.feed_bulk_sends", "schedule": SMS_DISPATCH_INTERVAL},
    "campaigns-a2p-settle": {
        "task": "campaigns.settle_a2p_batches",
        "schedule": SMS_SWEEP_INTERVAL,
    },
    "campaigns-a2p-poll": {
        "task": "campaigns.poll_a2p_statuses",
        "schedule": SMS_STATUS_POLL_INTERVAL,
    },
    # Recurring sends: each time that falls due becomes ordinary scheduled texts, once
    # (recurring.services.materialise), ahead of the dispatcher that then queues them.
    "recurring-materialise": {"task": "recurring.materialise", "schedule": SMS_DISPATCH_INTERVAL},
    # RingCentral's consent list (smsapp.services.optouts): staff changes pushed, its opt-outs
    # pulled. RingCentral blocks its own opt-outs meanwhile, so a quarter hour is plenty.
    "sms-sync-consents": {"task": "smsapp.sync_consents", "schedule": 900.0},
    # The webhook subscription, when RINGCENTRAL_WEBHOOK_URL is set: created, renewed,
    # replaced when blacklisted; removed when the setting is emptied.
    "conversations-webhook": {
        "task": "conversations.maintain_webhook",
        "schedule": INBOUND_WEBHOOK_CHECK_INTERVAL,
    },
    # Alert emails to ADMINS (each condition at most once an hour) and the token history's
    # retention (monitoring.tasks).
    "monitoring-check-alerts": {"task": "monitoring.check_alerts", "schedule": 60.0},
}

# --- RingCentral -----------------------------------------------------------------------------
RINGCENTRAL_SERVER_URL = _http_url(
    "RINGCENTRAL_SERVER_URL", "https://platform.ringcentral.com", "https://platform.ringcentral.com"
)
RINGCENTRAL_CLIENT_ID = _str("RINGCENTRAL_CLIENT_ID")
RINGCENTRAL_CLIENT_SECRET = _str("RINGCENTRAL_CLIENT_SECRET")
RINGCENTRAL_USERNAME = _str("RINGCENTRAL_USERNAME")
RINGCENTRAL_EXTENSION = _str("RINGCENTRAL_EXTENSION")
RINGCENTRAL_PASSWORD = _str("RINGCENTRAL_PASSWORD")
# When set, logins use the JWT grant instead of the password grant.
RINGCENTRAL_JWT = _str("RINGCENTRAL_JWT")
# Seconds for one HTTP call to RingCentral (connect and read each). The token row lock waits for
# at most two such calls (a refresh, then a login) plus a margin; see auth_tokens.services.
# At most two minutes: every timing rule (lock wait, backstop) grows with it.
RINGCENTRAL_HTTP_TIMEOUT = _seconds("RINGCENTRAL_HTTP_TIMEOUT", 15.0, maximum=120)
# Fernet key(s) that encrypt stored tokens, comma-separated: the first encrypts, all decrypt, so
# a key can be rotated. Generate one with: python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())". When unset, a key is derived from SECRET_KEY, so
# changing SECRET_KEY means one fresh login (stored tokens can no longer be read).
TOKEN_ENCRYPTION_KEY = _fernet_keys("TOKEN_ENCRYPTION_KEY")

# --- SMS -------------------------------------------------------------------------------------
# E.164 sender number; it must be SMS-enabled on the RingCentral extension.
SMS_FROM_NUMBER = _str("SMS_FROM_NUMBER")
# How texts leave: "ringcentral" (the real thing), "console" (printed, for development) or
# "locmem" (kept in memory, for tests), or a dotted path to a BaseSmsBackend subclass.
SMS_BACKEND = _str("SMS_BACKEND", "ringcentral")
# Redis for state every worker shares: the fleet-wide rate limit, the 429 pause, heartbeats and
# health facts. The broker's own Redis unless set; required with a RabbitMQ broker.
REDIS_URL = _str("REDIS_URL") or ("" if BROKER_IS_RABBITMQ else CELERY_BROKER_URL)
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when CELERY_BROKER_URL is RabbitMQ (amqp://): the rate limiter, "
        "pauses and heartbeats live in Redis, e.g. REDIS_URL=redis://127.0.0.1:6379/0"
    )
# SMS sends for the whole fleet: "auto" (the default) follows RingCentral's own limit and
# window for the account, from the X-Rate-Limit-* headers of its answers (40 a minute until the
# first answer says); a number caps sends per minute below that, and the headers still apply
# when they say less. 0 stands for auto inside the app (smsapp.ratelimit).
SMS_RATE_LIMIT_PER_MINUTE = (
    0
    if _str("SMS_RATE_LIMIT_PER_MINUTE", "auto").strip().lower() == "auto"
    else _whole("SMS_RATE_LIMIT_PER_MINUTE", 40, minimum=1, maximum=1_000_000)
)
# Transient failures (5xx, timeouts before sending) are retried with exponential backoff and
# jitter, from SMS_RETRY_BASE_SECONDS up to SMS_RETRY_MAX_SECONDS, at most SMS_MAX_ATTEMPTS.
SMS_MAX_ATTEMPTS = _whole("SMS_MAX_ATTEMPTS", 5, minimum=1, maximum=100)
SMS_RETRY_BASE_SECONDS = _seconds("SMS_RETRY_BASE_SECONDS", 10.0, maximum=_DAY)
SMS_RETRY_MAX_SECONDS = _seconds("SMS_RETRY_MAX_SECONDS", 600.0, maximum=_DAY)
# How long a text waits for a RingCentral login problem (throttled, rejected credentials) or
# incomplete RingCentral settings to be fixed before it fails with a reason naming the problem.
SMS_AUTH_HOLD_SECONDS = _seconds("SMS_AUTH_HOLD_SECONDS", 3600.0, maximum=7 * _DAY)
# A claimed send holds a lease on its row, renewed while its attempt runs; when the lease lapses
# (the worker died) the sweeper settles the send at once against RingCentral's message store.
SMS_LEASE_SECONDS = _seconds("SMS_LEASE_SECONDS", 10.0, maximum=_HOUR)
# Backstop: a send still "sending" after this many seconds is settled even if its lease is
# renewed (a hung attempt). Unset, it is derived from the slowest possible attempt (see
# smsapp.timing), which is what it must exceed; a start-up check refuses a smaller value.
SMS_STALE_SENDING_SECONDS = _number(
    "SMS_STALE_SENDING_SECONDS", None, above=0, maximum=_DAY, unit="seconds", example=400
)
# A text whose outcome is uncertain (the connection dropped after the request left) counts as
# not sent only if RingCentral's message store still lacks it this many seconds after the
# attempt: a lookup made at once could miss a text that is still being recorded.
SMS_UNCERTAIN_SETTLE_SECONDS = _seconds("SMS_UNCERTAIN_SETTLE_SECONDS", 30.0, maximum=_DAY)
# A queued message whose task has not started this long after it was queued is queued again
# (its task was lost, e.g. the broker was down at commit time). Tasks reserved by a worker that
# died are queued again sooner, once its heartbeat stops (smsapp.heartbeats). A duplicate task
# is harmless: the claim lets one through. Must stay below the broker's visibility_timeout.
SMS_REDISPATCH_SECONDS = _seconds("SMS_REDISPATCH_SECONDS", 300.0, maximum=_DAY)
# At most this many recipients in one send (form, send_sms, the service): a slip of the paste
# must not queue hours of RingCentral's limit in one click.
SMS_MAX_RECIPIENTS = _whole("SMS_MAX_RECIPIENTS", 100, minimum=1, maximum=10_000)
# Above this many recipients the form asks for a confirmation showing the count and segments
# (0: always).
SMS_CONFIRM_RECIPIENTS_ABOVE = _whole("SMS_CONFIRM_RECIPIENTS_ABOVE", 10, minimum=0, maximum=10_000)
# A text can be scheduled at most this many days ahead (ten years at most: far below the year
# 9999 where dates overflow).
SMS_MAX_SCHEDULE_DAYS = _whole("SMS_MAX_SCHEDULE_DAYS", 365, minimum=1, maximum=3650)
# Default region for numbers typed without a country code (ISO 3166 code, e.g. US, GB).
SMS_DEFAULT_REGION = _region("SMS_DEFAULT_REGION", "US")
