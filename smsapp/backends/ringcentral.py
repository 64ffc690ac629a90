"""Sends through RingCentral's REST API with the shared token; maps its answers to SmsErrors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import redis
import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from auth_tokens.api import ringcentral_request
from auth_tokens.client import error_code, retry_after
from auth_tokens.errors import RingCentralAuthError
from smsapp import reasons
from smsapp.backends.base import (
    AmbiguousSmsError,
    AuthWaitSmsError,
    BaseSmsBackend,
    Delivery,
    OutgoingSms,
    PermanentSmsError,
    RateLimitedSmsError,
    TransientSmsError,
)
from smsapp.ratelimit import FleetRateLimiter

SMS_PATH = "/restapi/v1.0/account/~/extension/~/sms"
STORE_PATH = "/restapi/v1.0/account/~/extension/~/message-store"
# Without Retry-After on a 429, wait at least 30 s (ringcentral-api.md, Rate limits).
DEFAULT_RETRY_AFTER = 30.0
# A blocked or unreachable login is not going to clear in seconds: look again in a minute.
AUTH_RECHECK_SECONDS = 60.0
# Message-store reads are in the Light group (50 a minute); leave room for other readers.
LIGHT_GROUP_BUDGET = 40


def sms_limiter() -> FleetRateLimiter:
    return FleetRateLimiter("Medium", settings.SMS_RATE_LIMIT_PER_MINUTE)


def store_limiter() -> FleetRateLimiter:
    return FleetRateLimiter("Light", LIGHT_GROUP_BUDGET)


class RingCentralBackend(BaseSmsBackend):
    def send(self, sms: OutgoingSms) -> str:
        limiter = sms_limiter()
        body = {
            "from": {"phoneNumber": sms.from_number},
            "to": [{"phoneNumber": sms.to_number}],
            "text": sms.text,
        }
        response = self._call(limiter, "POST", SMS_PATH, json=body, sends=True)
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

    def find_sent(self, sms: OutgoingSms, since: datetime) -> list[str]:
        params = {
            "direction": "Outbound",
            "messageType": "SMS",
            "phoneNumber": sms.to_number,
            # A minute's margin for clock differences between us and RingCentral.
            "dateFrom": (since - timedelta(minutes=1)).isoformat(),
            "perPage": 100,
        }
        response = self._call(store_limiter(), "GET", STORE_PATH, params=params)
        if response.status_code != 200:
            raise TransientSmsError(
                f"could not search RingCentral's message store (HTTP {response.status_code})"
            )
        records = response.json().get("records", [])
        matches = [
            r
            for r in records
            if r.get("subject") == sms.text
            and any(t.get("phoneNumber") == sms.to_number for t in r.get("to", []))
            and r.get("from", {}).get("phoneNumber") == sms.from_number
        ]
        return [str(r["id"]) for r in sorted(matches, key=lambda r: r.get("creationTime", ""))]

    def delivery(self, provider_message_id: str) -> Delivery:
        response = self._call(store_limiter(), "GET", f"{STORE_PATH}/{provider_message_id}")
        if response.status_code != 200:
            raise TransientSmsError(f"could not read the status (HTTP {response.status_code})")
        record = response.json()
        status, code = record.get("messageStatus", ""), record.get("deliveryErrorCode", "")
        if status == "Delivered":
            return Delivery("delivered")
        if status in ("DeliveryFailed", "SendingFailed"):
            if reasons.carrier_gave_no_status(code):
                return Delivery("unknown", code)
            return Delivery("failed", code or status)
        return Delivery("pending")

    def _call(
        self,
        limiter: FleetRateLimiter,
        method: str,
        path: str,
        *,
        sends: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        try:
            wait = limiter.acquire()
        except redis.RedisError as error:
            # Without the shared limiter the fleet could storm RingCentral: nothing is sent.
            raise TransientSmsError(f"rate limiter unavailable ({_name(error)})") from None
        if wait > 0:
            raise RateLimitedSmsError(
                f"holding back for the fleet-wide {limiter.group} rate limit", retry_after=wait
            )
        try:
            response = ringcentral_request(method, path, **kwargs)
        except RingCentralAuthError as error:
            raise AuthWaitSmsError(
                str(error),
                code=error.code or type(error).__name__,
                retry_after=getattr(error, "retry_after", None) or AUTH_RECHECK_SECONDS,
            ) from None
        except requests.RequestException as error:
            if not sends or _never_left(error):
                raise TransientSmsError(f"could not reach RingCentral ({_name(error)})") from None
            raise AmbiguousSmsError(
                f"no answer from RingCentral after sending ({_name(error)}): it may have gone out"
            ) from None
        limiter.observe(response.headers)
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
