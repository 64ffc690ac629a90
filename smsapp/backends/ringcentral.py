"""Sends through RingCentral's REST API with the shared token; maps its answers to SmsErrors."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import NewConnectionError

from auth_tokens.api import (
    DEFAULT_RETRY_AFTER,
    RingCentralAuthError,
    error_code,
    retry_after,
    ringcentral_request,
)
from metrics import definitions as metrics
from smsapp import log_context, reasons
from smsapp.backends.base import (
    AmbiguousSmsError,
    AuthWaitSmsError,
    BaseSmsBackend,
    ConfigurationSmsError,
    Delivery,
    OutgoingSms,
    PermanentSmsError,
    RateLimitedSmsError,
    TransientSmsError,
)
from smsapp.backends.error_text import describe
from smsapp.phones import same_number
from smsapp.ratelimit import FleetRateLimiter

SMS_PATH = "/restapi/v1.0/account/~/extension/~/sms"
STORE_PATH = "/restapi/v1.0/account/~/extension/~/message-store"
# A blocked or unreachable login is not going to clear in seconds: look again in a minute.
AUTH_RECHECK_SECONDS = 60.0
# The one budget for RingCentral's Light group (message-store reads: 50 a minute), for the
# whole fleet; the rest is left for other readers.
LIGHT_GROUP_BUDGET = 40
# Delivery polling may fill only half of that window (and the status check asks for no more
# in one run: RingCentralBackend.delivery_reads_per_run). The rest stays free for store
# searches after an uncertain send: those decide whether a text goes out twice and must never
# starve behind hundreds of routine status reads (seen with 300 texts: a minute's delay).
DELIVERY_POLL_BUDGET = 20
# Records per message-store page: RingCentral's maximum (larger values are clamped to it).
STORE_PAGE_SIZE = 1000
# A search of one attempt's window that runs past this many pages is not one we can trust.
MAX_STORE_PAGES = 20
logger = logging.getLogger(__name__)


def sms_limiter() -> FleetRateLimiter:
    return FleetRateLimiter("Medium", settings.SMS_RATE_LIMIT_PER_MINUTE)


def store_limiter() -> FleetRateLimiter:
    """For reconciliation: the whole Light budget."""
    return FleetRateLimiter("Light", LIGHT_GROUP_BUDGET)


def delivery_poll_limiter() -> FleetRateLimiter:
    """The same sliding window with a lower ceiling: polling stops where reconciliation's
    reserve begins."""
    return FleetRateLimiter("Light", DELIVERY_POLL_BUDGET)


class RingCentralBackend(BaseSmsBackend):
    talks_to_ringcentral = True
    delivery_reads_per_run = DELIVERY_POLL_BUDGET

    def send(self, sms: OutgoingSms) -> str:
        limiter = sms_limiter()
        body = {
            "from": {"phoneNumber": sms.from_number},
            "to": [{"phoneNumber": sms.to_number}],
            "text": sms.text,
        }
        response = ringcentral_call(limiter, "POST", SMS_PATH, json=body, sends=True)
        if response.status_code == 200:
            return str(response.json()["id"])
        code = error_code(response)
        if response.status_code >= 500 or code == "MSG-290":
            raise TransientSmsError(
                f"RingCentral could not take the text right now (HTTP {response.status_code}"
                f"{f', {code}' if code else ''})",
                code=code or f"HTTP-{response.status_code}",
                retry_after=retry_after(response, None),
            )
        if response.status_code == 401:  # still 401 after one fresh token: a login problem
            raise AuthWaitSmsError(
                f"RingCentral refused the app's token ({code or 'HTTP 401'})",
                code=code or "HTTP-401",
                retry_after=AUTH_RECHECK_SECONDS,
            )
        raise PermanentSmsError(
            reasons.send_error_reason(code, response.status_code),
            code=code or f"HTTP-{response.status_code}",
        )

    def find_sent(self, sms: OutgoingSms, since: datetime, until: datetime) -> list[str]:
        # The attempt's time window, without the phoneNumber filter: how that filter matches
        # (E.164 or digits, from or to) is not documented, and a filter that misses would make
        # a sent text look absent. The window is short (one attempt), so it is a page or two.
        params: dict[str, Any] | None = {
            "direction": "Outbound",
            "messageType": "SMS",
            "dateFrom": store_time(since),
            "dateTo": store_time(until),
            "perPage": STORE_PAGE_SIZE,
        }
        path = STORE_PATH
        records: list[dict[str, Any]] = []
        for _ in range(MAX_STORE_PAGES):
            response = ringcentral_call(store_limiter(), "GET", path, params=params)
            if response.status_code != 200:
                code = error_code(response)
                raise TransientSmsError(
                    "could not search RingCentral's message store "
                    f"(HTTP {response.status_code}{f', {code}' if code else ''})"
                )
            body = response.json()
            records.extend(r for r in body.get("records", []) if isinstance(r, dict))
            next_page = ((body.get("navigation") or {}).get("nextPage") or {}).get("uri")
            if not next_page:
                break
            path, params = _same_server_path(next_page), None
        else:
            raise TransientSmsError(
                f"the message store search had more than {MAX_STORE_PAGES} pages"
            )
        return matching_records(records, sms)

    def delivery(self, provider_message_id: str) -> Delivery:
        response = ringcentral_call(
            delivery_poll_limiter(), "GET", f"{STORE_PATH}/{provider_message_id}"
        )
        if response.status_code != 200:
            raise TransientSmsError(f"could not read the status (HTTP {response.status_code})")
        return delivery_from_record(response.json())


def delivery_from_record(record: dict[str, Any]) -> Delivery:
    """What a message-store record (GET message-store/{id}, or one handed over by the message
    sync) says of an outbound text's delivery: the status check's one reading of a record."""
    status = record.get("messageStatus", "")
    # A2P records name the field errorCode; read either.
    code = record.get("deliveryErrorCode") or record.get("errorCode") or ""
    if status == "Delivered":
        return Delivery("delivered")
    if status in ("DeliveryFailed", "SendingFailed"):
        # Every code is reported as it is, "look again later" ones (SMS-CAR-104/199)
        # included: what each means for the text is the status check's decision, from the
        # table in smsapp/delivery_codes.py.
        return Delivery("failed", code or status)
    return Delivery("pending")  # Queued or Sent: no receipt yet


def consents_limiter() -> FleetRateLimiter:
    """The Consents API is in the Light group (docs/ringcentral.md#opt-out). Its syncs can wait
    minutes, so it gets delivery polling's ceiling: store searches after an uncertain send
    keep their reserve above it."""
    return FleetRateLimiter("Light", DELIVERY_POLL_BUDGET)


def ringcentral_call(
    limiter: FleetRateLimiter,
    method: str,
    path: str,
    *,
    sends: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """One request to RingCentral through the fleet's shared limiter for its group, with every
    failure mapped to an SmsError: what the sending path and every other reader of the API
    (message sync, subscriptions, consents) need alike. `sends` marks a request that could
    send a text, whose lost answer is ambiguous rather than transient."""
    try:
        wait = limiter.acquire()
    except redis.RedisError as error:
        # Without the shared limiter the fleet could storm RingCentral: nothing is sent.
        detail = describe(error)
        logger.warning("fleet rate limiter unavailable, nothing sent: %s", detail)
        raise TransientSmsError(f"rate limiter unavailable ({detail})") from error
    if wait > 0:
        metrics.limiter_held_back(limiter.group)
        raise RateLimitedSmsError(
            f"holding back for the fleet-wide {limiter.group} rate limit", retry_after=wait
        )
    try:
        response = ringcentral_request(method, path, **kwargs)
    except ImproperlyConfigured as error:
        # Checked before RingCentralAuthError: auth_tokens' TokenConfigurationError (a
        # credential setting missing) is both, and no login can fix it, only an admin.
        # Its text names the settings, never their values.
        raise ConfigurationSmsError(str(error), retry_after=AUTH_RECHECK_SECONDS) from error
    except RingCentralAuthError as error:
        # auth_tokens' errors say what happened and what to do, never with a secret.
        raise AuthWaitSmsError(
            str(error),
            code=error.code or type(error).__name__,
            retry_after=getattr(error, "retry_after", None) or AUTH_RECHECK_SECONDS,
        ) from error
    except _UNUSABLE_URL as error:
        # Raised before any connection: nothing left, and no retry can help until an
        # admin fixes the setting. Not an "uncertain" send: it certainly did not go out.
        # Only the class name: the message is the URL itself, which could hold a password
        # that no URL parser recognised as one.
        raise ConfigurationSmsError(
            "RINGCENTRAL_SERVER_URL is not a usable http(s) URL "
            f"({_name(error)}): a configuration problem an admin must fix",
            retry_after=AUTH_RECHECK_SECONDS,
        ) from error
    except requests.RequestException as error:
        metrics.ringcentral_answered(limiter.group, "error")
        detail = describe(error)
        logger.warning("RingCentral %s %s failed: %s", method, path.partition("?")[0], detail)
        if not sends or _never_left(error):
            raise TransientSmsError(f"could not reach RingCentral ({detail})") from error
        raise AmbiguousSmsError(
            f"no answer from RingCentral after sending ({detail}): it may have gone out"
        ) from error
    finally:
        # Date the slot from the answer: RingCentral counted it on arrival, before now.
        with contextlib.suppress(redis.RedisError):
            limiter.settle()
    metrics.ringcentral_answered(limiter.group, response.status_code)
    # RingCentral's id of this request: what its support asks for about a call that went wrong.
    log_context.note(ringcentral_request_id=response.headers.get("RCRequestId"))
    limiter.observe(response.headers, throttled=response.status_code == 429)
    if response.status_code == 429:
        wait = retry_after(response, DEFAULT_RETRY_AFTER) or DEFAULT_RETRY_AFTER
        # The whole fleet stops: a request during the penalty would restart it.
        paused = limiter.pause(wait)
        raise RateLimitedSmsError(
            f"RingCentral rate limit ({error_code(response) or '429'}): the fleet waits "
            f"{paused:.0f} s",
            code=error_code(response) or "HTTP-429",
            retry_after=paused,
        )
    return response


def store_time(moment: datetime) -> str:
    """The form of dateFrom/dateTo in RingCentral's reference and every official sample: UTC,
    milliseconds, "Z" (2016-03-10T18:07:52.534Z). Other forms are not documented to work."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def matching_records(records: list[dict[str, Any]], sms: OutgoingSms) -> list[str]:
    """Ids of the records that are this text, exact text matches first, each group oldest
    first. Numbers are compared as parsed numbers (records write them "usually" as E.164)."""
    wanted = _comparable(sms.text)
    exact: list[dict[str, Any]] = []
    shortened: list[dict[str, Any]] = []
    for record in records:
        sender = (record.get("from") or {}).get("phoneNumber", "")
        recipients = [t.get("phoneNumber", "") for t in record.get("to") or []]
        if not same_number(sender, sms.from_number):
            continue
        if not any(same_number(n, sms.to_number) for n in recipients):
            continue
        subject = _comparable(record.get("subject") or "")
        if subject == wanted:
            exact.append(record)
        elif subject and wanted.startswith(subject):
            # `subject` "replicates the message text"; whether it is ever shortened is not
            # documented. A shortened subject still counts: taking it for absent would send the
            # text again on every sweep (a duplicate each time), while the only risk of taking
            # it is a different text of ours with the same beginning, to the same number, in
            # the same minute, that no other message has claimed.
            shortened.append(record)
    return [str(r["id"]) for r in sorted(exact, key=_created) + sorted(shortened, key=_created)]


def _created(record: dict[str, Any]) -> str:
    return str(record.get("creationTime", ""))


def _comparable(text: str) -> str:
    # What a store may normalise: line endings and surrounding white space.
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _same_server_path(uri: str) -> str:
    """navigation URIs are absolute; requests go to our configured server, path and query."""
    parts = urlsplit(uri)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


# requests' errors for a URL it cannot even try (no scheme, an unknown scheme, no host).
_UNUSABLE_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
    requests.exceptions.URLRequired,
)


def _never_left(error: requests.RequestException) -> bool:
    """True when the request certainly did not reach RingCentral: no connection was made."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, NewConnectionError)
    return False


def _name(error: Exception) -> str:
    return type(error).__name__
