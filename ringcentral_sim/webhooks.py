"""WebHook subscriptions: the validation handshake, expiry, notifications and blacklisting."""

from __future__ import annotations

import http.client
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ringcentral_sim.config import SimConfig
from ringcentral_sim.errors import ApiError, invalid_parameter
from ringcentral_sim.messages import StoredMessage, attachment, conversation_id, iso

# The one event filter the simulator serves: inbound SMS (the guide's event filter index).
INSTANT_SMS = re.compile(
    r"^/restapi/v1\.0/account/(?P<account>[^/]+)/extension/(?P<extension>[^/]+)"
    r"/message-store/instant\?type=SMS$"
)
# CreateSubscriptionRequest.expiresIn: at least 1, at most 315360000 (10 years) for WebHook.
MAX_EXPIRES_IN = 315360000
# Without expiresIn a subscription lasts 7 days (what clients observe; the reference gives
# no default): our reading.
DEFAULT_EXPIRES_IN = 604800
MAX_SUBSCRIPTIONS = 30  # per user and app (docs/ringcentral.md#inbound-texts)
# The guide: an answer over 1024 bytes fails the handshake with SUB-525.
MAX_ANSWER_BYTES = 1024
TOKEN_HEADERS = ("Verification-Token", "Validation-Token")


@dataclass
class Subscription:
    id: str
    client_id: str
    user_key: str
    account_id: str
    extension_id: str
    event_filters: list[str]
    address: str
    verification_token: str | None
    created_at: float
    expires_in: int
    expires_at: float
    status: str = "Active"
    failures: int = 0  # failed notification attempts in a row
    blacklisted_at: float | None = None
    blacklist_reason: str | None = None
    deleted: bool = False

    def alive(self, now: float) -> bool:
        """Still there: neither deleted nor expired (an expired one is gone for good)."""
        return not self.deleted and now < self.expires_at

    def info(self, base_url: str, now: float) -> dict[str, Any]:
        """SubscriptionInfo. The deliveryMode is WebhookDeliveryMode: transportType, address
        and encryption, never the verificationToken."""
        info: dict[str, Any] = {
            "uri": f"{base_url}/restapi/v1.0/subscription/{self.id}",
            "id": self.id,
            "creationTime": iso(self.created_at),
            "status": self.status,
            "eventFilters": list(self.event_filters),
            "expirationTime": iso(self.expires_at),
            # The seconds left, which is what the lifetime is once time has passed.
            "expiresIn": max(0, int(self.expires_at - now)),
            "deliveryMode": {
                "transportType": "WebHook",
                "address": self.address,
                "encryption": False,
            },
        }
        if self.status == "Blacklisted" and self.blacklisted_at is not None:
            info["blacklistedData"] = {
                "blacklistedAt": iso(self.blacklisted_at),
                "reason": self.blacklist_reason or "",
            }
        return info


@dataclass
class HttpAnswer:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    size: int = 0
    error: str | None = None


def post(address: str, body: bytes, headers: dict[str, str], *, timeout: float) -> HttpAnswer:
    """One POST, no redirects followed and no proxy: RingCentral calls the address itself."""
    parts = urlsplit(address)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
        try:
            connection.request(
                "POST", path, body=body, headers={**headers, "Content-Length": str(len(body))}
            )
            response = connection.getresponse()
            content = response.read(MAX_ANSWER_BYTES + 1)
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            return HttpAnswer(response.status, answer_headers, len(content))
        finally:
            connection.close()
    except TimeoutError:
        return HttpAnswer(None, error=f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return HttpAnswer(None, error=f"{type(exc).__name__}: {exc}")


def parse_create(body: Any, user: dict[str, Any]) -> tuple[list[str], str, str | None, int]:
    """A CreateSubscriptionRequest, checked: (event filters as the account's own ids,
    address, verificationToken, expiresIn). Raises ApiError."""
    if not isinstance(body, dict):
        raise invalid_parameter("body")
    filters = body.get("eventFilters")
    if not isinstance(filters, list) or not filters or not all(isinstance(f, str) for f in filters):
        raise invalid_parameter("eventFilters")
    expanded = [expand_filter(f, user) for f in filters]
    mode = body.get("deliveryMode")
    if not isinstance(mode, dict):
        raise invalid_parameter("deliveryMode")
    if mode.get("transportType") != "WebHook":
        # The simulator serves WebHook only (PubNub is retired, WebSocket is another protocol).
        raise invalid_parameter("deliveryMode.transportType")
    address = mode.get("address")
    parts = urlsplit(address) if isinstance(address, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_parameter("deliveryMode.address")
    token = mode.get("verificationToken")
    if token is not None and (not isinstance(token, str) or not token):
        raise invalid_parameter("deliveryMode.verificationToken")
    expires_in = body.get("expiresIn", DEFAULT_EXPIRES_IN)
    if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in < 1:
        raise invalid_parameter("expiresIn")
    # Over the maximum is cut to it (our reading; the reference only gives the maximum).
    return expanded, address, token, min(expires_in, MAX_EXPIRES_IN)


def expand_filter(event_filter: str, user: dict[str, Any]) -> str:
    """The filter with "~" replaced by the user's account and extension ids, as subscriptions
    show them (our reading: the app must not compare filters as strings)."""
    match = INSTANT_SMS.match(event_filter)
    if match is None:
        raise ApiError(400, "SUB-508", f"Event filter is not supported: {event_filter}")
    account = match["account"]
    extension = match["extension"]
    if account not in ("~", user["account_id"]) or extension not in ("~", user["extension_id"]):
        raise ApiError(400, "SUB-508", f"Event filter is not allowed for this user: {event_filter}")
    return instant_sms_event(user)


def instant_sms_event(user: dict[str, Any]) -> str:
    return (
        f"/restapi/v1.0/account/{user['account_id']}/extension/{user['extension_id']}"
        "/message-store/instant?type=SMS"
    )


def handshake_problem(answer: HttpAnswer, token: str) -> str | None:
    """Why a validation answer fails (SUB-525), or None when it passes: 200, within the
    timeout, the same Validation-Token header back, at most 1024 bytes (the guide)."""
    if answer.status is None:
        return f"WebHook server response is invalid: {answer.error}"
    if answer.status != 200:
        return f"WebHook server response is invalid: HTTP {answer.status}, expected 200"
    if answer.headers.get("validation-token") != token:
        return "WebHook server response is invalid: the Validation-Token header was not echoed"
    if answer.size > MAX_ANSWER_BYTES:
        return "WebHook server response is invalid: more than 1024 bytes"
    return None


def notification(
    subscription: Subscription, message: StoredMessage, *, notice_id: str, now: float
) -> dict[str, Any]:
    """InstantMessageEvent. The envelope's ownerId comes from the guide's event payload
    table; the body follows InstantMessageEventBody, numbers always E.164 with "+"
    (NotificationRecipientInfo, SenderInfo), the text in `subject`."""
    conversation = conversation_id(message)
    uri = f"/restapi/v1.0/account/~/extension/~/message-store/{message.id}"
    return {
        "uuid": notice_id,
        "event": subscription.event_filters[0],
        "timestamp": iso(now),
        "subscriptionId": subscription.id,
        "ownerId": subscription.extension_id,
        "body": {
            "id": str(message.id),
            "to": [{"phoneNumber": n, "target": True} for n in message.to_numbers],
            "from": {"phoneNumber": message.from_number},
            "type": "SMS",
            "creationTime": iso(message.created_at),
            "lastModifiedTime": iso(message.created_at),
            "readStatus": "Unread",
            "priority": "Normal",
            "attachments": [attachment(message, uri)],
            "direction": "Inbound",
            "availability": "Alive",
            "subject": message.text,
            "messageStatus": "Received",
            "conversationId": conversation,  # deprecated, still sent (the guide lists it)
            "conversation": {"id": conversation},
            "ownerId": subscription.extension_id,
        },
    }


class Webhooks:
    """Subscriptions and their deliveries. Creating, finding and changing subscriptions
    happens under the simulator's lock (held by the caller); deliveries run on their own
    threads and take that lock only around state changes, never during the HTTP call."""

    def __init__(
        self,
        lock: threading.Lock,
        now: Callable[[], float],
        config: Callable[[], SimConfig],
    ) -> None:
        self._lock = lock
        self._now = now
        self._config = config
        self.subscriptions: dict[str, Subscription] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.attempted = 0
        self.delivered = 0
        self.failed = 0

    # -- under the caller's lock ------------------------------------------------------------

    def owned(self, client_id: str, user_key: str, now: float) -> list[Subscription]:
        return [
            s
            for s in self.subscriptions.values()
            if s.client_id == client_id and s.user_key == user_key and s.alive(now)
        ]

    def find(self, subscription_id: str, client_id: str, user_key: str) -> Subscription:
        found = self.subscriptions.get(subscription_id)
        if (
            found is None
            or found.deleted
            or (found.client_id, found.user_key)
            != (
                client_id,
                user_key,
            )
        ):
            raise ApiError(404, "CMN-102", "Resource for parameter [subscriptionId] is not found")
        return found

    def check_room(self, client_id: str, user_key: str, now: float) -> None:
        if len(self.owned(client_id, user_key, now)) >= MAX_SUBSCRIPTIONS:
            raise ApiError(
                400, "SUB-505", f"Limit of {MAX_SUBSCRIPTIONS} subscriptions per user and app"
            )

    def add(self, subscription: Subscription) -> None:
        self.subscriptions[subscription.id] = subscription

    def log(self, entry: dict[str, Any]) -> None:
        self.deliveries.append(entry)

    def notify(self, message: StoredMessage, *, copies: int) -> int:
        """Queue one notification of an inbound text to every live, Active subscription of the
        user it came to, `copies` times each (same uuid: a duplicate). Returns how many
        subscriptions it goes to; the POSTs happen on background threads."""
        now = self._now()
        targets = [
            s
            for s in self.subscriptions.values()
            if s.extension_id == message.owner and s.status == "Active" and s.alive(now)
        ]
        for subscription in targets:
            notice_id = str(uuid.uuid4())
            thread = threading.Thread(
                target=self._deliver,
                args=(subscription, message, notice_id, copies),
                name=f"ringcentral-sim-webhook-{subscription.id[:8]}",
                daemon=True,
            )
            thread.start()
        return len(targets)

    # -- delivery threads -----------------------------------------------------------------

    def _deliver(
        self, subscription: Subscription, message: StoredMessage, notice_id: str, copies: int
    ) -> None:
        for _ in range(copies):
            if not self._send_with_retries(subscription, message, notice_id):
                return

    def _send_with_retries(
        self, subscription: Subscription, message: StoredMessage, notice_id: str
    ) -> bool:
        """One notification, retried on failure. False when the subscription can take no
        more (blacklisted, expired, deleted)."""
        with self._lock:
            retries = max(0, self._config().webhook_retries)
        for attempt in range(1, retries + 2):
            with self._lock:
                config, now = self._config(), self._now()
                if subscription.status != "Active" or not subscription.alive(now):
                    return False
                payload = notification(subscription, message, notice_id=notice_id, now=now)
                headers = {"Content-Type": "application/json"}
                if subscription.verification_token is not None:
                    name = config.webhook_token_header
                    name = name if name in TOKEN_HEADERS else TOKEN_HEADERS[0]
                    headers[name] = subscription.verification_token
                timeout = config.webhook_timeout_seconds
                delay = config.webhook_retry_delay_seconds
                self.attempted += 1
            answer = post(
                subscription.address, json.dumps(payload).encode(), headers, timeout=timeout
            )
            ok = answer.status is not None and 200 <= answer.status < 300
            with self._lock:
                self.log(
                    {
                        "kind": "notification",
                        "subscriptionId": subscription.id,
                        "address": subscription.address,
                        "uuid": notice_id,
                        "messageId": str(message.id),
                        "attempt": attempt,
                        "status": answer.status,
                        "ok": ok,
                        "error": answer.error,
                        "at": iso(self._now()),
                    }
                )
                if ok:
                    self.delivered += 1
                    subscription.failures = 0
                    return True
                self.failed += 1
                subscription.failures += 1
                if subscription.failures >= max(1, self._config().webhook_failures_to_blacklist):
                    subscription.status = "Blacklisted"
                    subscription.blacklisted_at = self._now()
                    subscription.blacklist_reason = (
                        f"Webhook responses with code: [{answer.status}]"
                        if answer.status is not None
                        else f"Webhook is unreachable: {answer.error}"
                    )
                    return False
            if attempt <= retries and delay > 0:
                time.sleep(delay)
        return True


def new_subscription_id() -> str:
    # SubscriptionInfo.id looks like a UUID ("95fecfc9-9cdc-4e94-a78a-89fd65889d37").
    return str(uuid.uuid4())


def new_validation_token() -> str:
    return secrets.token_hex(16)
