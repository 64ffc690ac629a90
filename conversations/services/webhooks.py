"""RingCentral webhook subscription for inbound texts: create, renew, replace; notifications in.

The facts are in docs/ringcentral.md#inbound-texts: the handshake at creation, the token on
every notification, blacklisting of an endpoint that fails, and no documented retry policy."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from auth_tokens.api import error_code
from conversations.models import WebhookNotification, WebhookSubscription
from smsapp.backends.base import SmsError
from smsapp.backends.ringcentral import ringcentral_call, sms_limiter, store_limiter

SUBSCRIPTION_PATH = "/restapi/v1.0/subscription"
INSTANT_SMS_FILTER = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
# RingCentral's status of a subscription whose endpoint kept failing: it gets nothing more and
# cannot be revived, only deleted and created again.
BLACKLISTED = "Blacklisted"
ACTIVE = "Active"
# How long handled notification ids are kept to spot a repeat.
NOTIFICATIONS_KEPT = timedelta(days=7)
# How often the subscription's status is read (Light group, one call): a blacklisted
# subscription is noticed within this, and meanwhile the message sync brings the texts.
STATUS_CHECK_EVERY = timedelta(minutes=5)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookState:
    """How inbound texts arrive now, in words for the admin and /healthz."""

    configured: bool
    active: bool
    detail: str


def webhook_state(*, now: datetime | None = None) -> WebhookState:
    now = now or timezone.now()
    address = settings.RINGCENTRAL_WEBHOOK_URL
    if not address:
        return WebhookState(
            False,
            False,
            "Webhooks are off (RINGCENTRAL_WEBHOOK_URL is empty): "
            "replies arrive by polling RingCentral's message sync.",
        )
    row = WebhookSubscription.objects.filter(pk=1).first()
    if row is None or row.address != address or not row.subscription_id:
        why = f" The last attempt failed: {row.last_error}" if row and row.last_error else ""
        return WebhookState(
            True,
            False,
            f"No webhook subscription yet: replies arrive by polling until beat creates one.{why}",
        )
    if row.status == BLACKLISTED:
        return WebhookState(
            True,
            False,
            "RingCentral blacklisted the webhook (the address "
            "failed to answer): replies arrive by polling; a new subscription "
            "is being created.",
        )
    if row.expires_at and row.expires_at <= now:
        return WebhookState(
            True,
            False,
            "The webhook subscription expired: replies arrive by "
            "polling; it is being created again.",
        )
    if row.status != ACTIVE:
        return WebhookState(
            True,
            False,
            f"The webhook subscription is {row.status or 'not active'}: replies arrive by "
            f"polling. {row.last_error}".strip(),
        )
    return WebhookState(
        True,
        True,
        f"Replies arrive by webhook at {address} (subscription "
        f"{row.subscription_id}, until {row.expires_at:%Y-%m-%d %H:%M} UTC).",
    )


def webhook_active() -> bool:
    return webhook_state().active


def subscription_maintain(*, now: datetime | None = None) -> str:
    """What beat runs every minute: keeps one working subscription for the configured
    address (created, renewed ahead of expiry, replaced when blacklisted, expired or gone),
    or none when webhooks are off. Returns what it did, for the task's result."""
    now = now or timezone.now()
    WebhookNotification.objects.filter(received_at__lt=now - NOTIFICATIONS_KEPT).delete()
    address = settings.RINGCENTRAL_WEBHOOK_URL
    row = WebhookSubscription.objects.filter(pk=1).first()
    if not address:
        if row and row.subscription_id:
            _delete_quietly(row.subscription_id)
        WebhookSubscription.objects.filter(pk=1).delete()
        return "webhooks off"
    if row is None or row.address != address or not row.subscription_id:
        if row and row.subscription_id:
            _delete_quietly(row.subscription_id)
        return _create(address)
    try:
        if row.checked_at is None or now - row.checked_at >= STATUS_CHECK_EVERY:
            info = _read(row.subscription_id)
            if info is None or info.get("status") == BLACKLISTED:
                _delete_quietly(row.subscription_id)
                return _create(address, why=f"was {info.get('status') if info else 'gone'}")
            _save_info(info, checked_at=now)
            row.refresh_from_db()
        if row.expires_at is None or row.expires_at <= now:
            _delete_quietly(row.subscription_id)
            return _create(address, why="had expired")
        if row.expires_at - now <= _renew_ahead():
            return _renew(row.subscription_id, address)
    except SmsError as error:
        _failed(f"could not check the webhook subscription: {error}")
        return f"check failed: {error}"
    return "active"


def _renew_ahead() -> timedelta:
    # A third of the lifetime, at most a day: a week-long subscription is renewed on its
    # sixth day, and a short one (tests, the simulator) well before it lapses.
    return min(timedelta(days=1), timedelta(seconds=settings.RINGCENTRAL_WEBHOOK_EXPIRES_IN / 3))


def _create(address: str, *, why: str = "") -> str:
    token = secrets.token_urlsafe(32)
    # Saved (and committed) before asking: RingCentral may deliver the first notification
    # before its answer to the creation reaches us.
    WebhookSubscription.objects.update_or_create(
        pk=1,
        defaults={
            "address": address,
            "subscription_id": "",
            "token_digest": _digest(token),
            "status": "",
            "expires_at": None,
        },
    )
    body = {
        "eventFilters": [INSTANT_SMS_FILTER],
        "deliveryMode": {
            "transportType": "WebHook",
            "address": address,
            "verificationToken": token,
        },
        "expiresIn": settings.RINGCENTRAL_WEBHOOK_EXPIRES_IN,
    }
    try:
        # Creation is in the Medium group, with the texts (docs/ringcentral.md#rate-limits).
        response = ringcentral_call(sms_limiter(), "POST", SUBSCRIPTION_PATH, json=body)
    except SmsError as error:
        _failed(f"could not create the webhook subscription: {error}{_previous(why)}")
        return f"create failed: {error}"
    if response.status_code != 200:
        code = error_code(response)
        _failed(_creation_refused(response.status_code, code) + _previous(why))
        return f"create refused: {code or response.status_code}"
    info = response.json()
    _save_info(info, checked_at=timezone.now(), subscription_id=str(info.get("id") or ""))
    logger.info("webhook subscription %s created %s", info.get("id"), why)
    return "created"


def _previous(why: str) -> str:
    return f" (the previous subscription {why})" if why else ""


def _creation_refused(status: int, code: str) -> str:
    hints = {
        "SUB-525": "RingCentral's check of the address failed: it must answer the empty POST "
        "with a Validation-Token header by echoing that header within 3 seconds. Is "
        "RINGCENTRAL_WEBHOOK_URL this app's /ringcentral/webhook, public and HTTPS?",
        "SUB-505": "the app already has RingCentral's maximum of subscriptions for this user: "
        "delete unused ones.",
        "SUB-508": "RingCentral refused the event filter.",
    }
    hint = hints.get(code, "")
    return (
        f"RingCentral refused the webhook subscription (HTTP {status}{f', {code}' if code else ''})"
        + (f": {hint}" if hint else "")
    )


def _renew(subscription_id: str, address: str) -> str:
    response = ringcentral_call(
        store_limiter(), "POST", f"{SUBSCRIPTION_PATH}/{subscription_id}/renew"
    )
    if response.status_code == 200:
        _save_info(response.json(), checked_at=timezone.now())
        return "renewed"
    # Expired or gone at RingCentral (SUB-507, 404): a new one, the only way back.
    _delete_quietly(subscription_id)
    return _create(
        address, why=f"could not be renewed ({error_code(response) or response.status_code})"
    )


def _read(subscription_id: str) -> dict[str, Any] | None:
    response = ringcentral_call(store_limiter(), "GET", f"{SUBSCRIPTION_PATH}/{subscription_id}")
    if response.status_code == 200:
        return response.json()
    if response.status_code == 404:
        return None
    raise SmsError(f"HTTP {response.status_code} {error_code(response)}".strip())


def _delete_quietly(subscription_id: str) -> None:
    """Best effort: a subscription we no longer use is deleted so it does not count against
    the limit of 30; if this fails, it expires by itself."""
    try:
        ringcentral_call(sms_limiter(), "DELETE", f"{SUBSCRIPTION_PATH}/{subscription_id}")
    except SmsError as error:
        logger.info("could not delete webhook subscription %s: %s", subscription_id, error)


def _save_info(info: dict[str, Any], *, checked_at: datetime, subscription_id: str = "") -> None:
    changes: dict[str, Any] = {
        "status": str(info.get("status") or ""),
        "expires_at": parse_datetime(str(info.get("expirationTime") or "")),
        "checked_at": checked_at,
        "last_error": "",
    }
    if subscription_id:
        changes["subscription_id"] = subscription_id
    WebhookSubscription.objects.filter(pk=1).update(**changes)


def _failed(reason: str) -> None:
    logger.warning("%s", reason)
    WebhookSubscription.objects.filter(pk=1).update(last_error=reason[:1000])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def verification_accepted(token: str | None) -> bool:
    """Whether a notification carries the token we gave RingCentral (compared in constant
    time, as digests)."""
    row = WebhookSubscription.objects.filter(pk=1).only("token_digest").first()
    if not token or row is None or not row.token_digest:
        return False
    return hmac.compare_digest(_digest(token), row.token_digest)


def notification_receive(*, body: bytes) -> list[Any]:
    """Stores the text a verified notification carries, once: a repeated notification (same
    uuid) or a text the sync already stored (same message id) changes nothing. Returns the
    texts stored. Raises ValueError for a body that is not a notification."""
    from conversations.services.inbound import inbound_store  # the pipeline imports this module

    try:
        notification = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError("the body is not JSON") from error
    if not isinstance(notification, dict) or not isinstance(notification.get("body"), dict):
        raise ValueError("the body is not a RingCentral notification")
    uuid = str(notification.get("uuid") or "")[:80]
    WebhookSubscription.objects.filter(pk=1).update(last_notification_at=timezone.now())
    try:
        with transaction.atomic():
            if uuid:
                WebhookNotification.objects.create(uuid=uuid)
            return inbound_store(records=[notification["body"]], via="webhook")
    except IntegrityError:
        return []  # the same notification again
