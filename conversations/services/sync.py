"""Polling for inbound texts: RingCentral's message sync (FSync once, then ISync)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from auth_tokens.api import error_code
from conversations.models import MessageSyncState
from conversations.services.inbound import inbound_store
from conversations.services.webhooks import webhook_active
from smsapp.backends.base import RateLimitedSmsError, SmsError
from smsapp.backends.ringcentral import ringcentral_call, store_time
from smsapp.ratelimit import FleetRateLimiter, shared_redis
from smsapp.services.delivery import messages_apply_store_records

SYNC_PATH = "/restapi/v1.0/account/~/extension/~/message-sync"
# RingCentral's answer when a sync token can no longer be used: start again with an FSync
# (docs/ringcentral.md#inbound-texts).
SYNC_TOKEN_INVALID = "MSG-333"  # noqa: S105 (an error code, not a secret)
# A first sync looks back this far: replies to texts sent the day before the app was set up
# still arrive, and a day of one extension's texts fits in one answer.
FIRST_SYNC_LOOKBACK = timedelta(days=1)
# The most records one FSync asks for; the sync has no paging.
FULL_SYNC_RECORDS = 1000
# Consecutive ISync windows overlap by about 5 s, and a full sync after MSG-333 starts this
# much before where the last one ended: both repeat records, which inbound_store ignores.
RESYNC_OVERLAP = timedelta(seconds=5)
# The Light group's shared window (docs/ringcentral.md#rate-limits): the sync may fill it up
# to 30 of the fleet's 40, above the delivery poll's ceiling of 20 (so a busy status check
# cannot starve replies) and below the store searches' 40 (which decide whether a text goes
# out twice, and keep their reserve of 10).
SYNC_LIGHT_CEILING = 30
LOCK_KEY = "conversations:message-sync:lock"
LOCK_SECONDS = 120
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    ran: bool
    records: int = 0  # records in RingCentral's answer, repeats included
    stored: int = 0
    statuses: int = 0
    full: bool = False
    detail: str = ""


def message_sync_due(*, now: datetime | None = None) -> bool:
    """Whether a sync should run now. With a working webhook subscription, texts come by
    webhook and the sync only catches what a lost notification missed, so it runs rarely."""
    now = now or timezone.now()
    state = MessageSyncState.objects.filter(pk=1).first()
    if state is None or state.last_run_at is None:
        return True
    interval = (
        settings.INBOUND_SYNC_INTERVAL_WITH_WEBHOOK
        if webhook_active()
        else settings.INBOUND_SYNC_INTERVAL
    )
    return now - state.last_run_at >= timedelta(seconds=interval) - timedelta(milliseconds=200)


def message_sync_run() -> SyncResult:
    """One sync: new inbound texts stored, outbound statuses applied. One at a time for the
    fleet (a Redis lock): two runs with the same token would only repeat each other's work."""
    client = shared_redis(settings.REDIS_URL)
    try:
        if not client.set(LOCK_KEY, "1", nx=True, ex=LOCK_SECONDS):
            return SyncResult(ran=False, detail="another sync is running")
    except redis.RedisError as error:
        return SyncResult(ran=False, detail=f"Redis unavailable ({type(error).__name__})")
    try:
        return _sync()
    finally:
        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            client.delete(LOCK_KEY)


def _sync() -> SyncResult:
    state, _ = MessageSyncState.objects.get_or_create(pk=1)
    now = timezone.now()
    MessageSyncState.objects.filter(pk=1).update(last_run_at=now)
    full = not state.sync_token
    try:
        answer = _ask(state, full=full, now=now)
        if answer is None:  # the token was refused: a full sync, from where we were
            full = True
            answer = _ask(state, full=True, now=now)
    except RateLimitedSmsError as error:
        return SyncResult(ran=False, detail=str(error))
    except SmsError as error:
        MessageSyncState.objects.filter(pk=1).update(last_error=str(error)[:500])
        logger.warning("message sync failed: %s", error)
        return SyncResult(ran=True, full=full, detail=str(error))
    records = [r for r in answer.get("records") or [] if isinstance(r, dict)]
    stored = inbound_store(records=records, via="sync")
    outbound = [r for r in records if r.get("direction") == "Outbound"]
    statuses = messages_apply_store_records(outbound) if outbound else 0
    info = answer.get("syncInfo") or {}
    changes: dict[str, Any] = {
        "sync_token": str(info.get("syncToken") or ""),
        "last_success_at": timezone.now(),
        "last_error": "",
    }
    if synced := parse_datetime(str(info.get("syncTime") or "")):
        changes["synced_until"] = synced
    if full:
        changes["full_syncs"] = state.full_syncs + 1
    MessageSyncState.objects.filter(pk=1).update(**changes)
    return SyncResult(
        ran=True, records=len(records), stored=len(stored), statuses=statuses, full=full
    )


def _ask(state: MessageSyncState, *, full: bool, now: datetime) -> dict[str, Any] | None:
    if full:
        since = (
            state.synced_until - RESYNC_OVERLAP if state.synced_until else now - FIRST_SYNC_LOOKBACK
        )
        params: dict[str, Any] = {
            "syncType": "FSync",
            "messageType": "SMS",
            "dateFrom": store_time(since),
            "recordCount": FULL_SYNC_RECORDS,
        }
    else:
        params = {"syncType": "ISync", "syncToken": state.sync_token}
    limiter = FleetRateLimiter("Light", SYNC_LIGHT_CEILING)
    response = ringcentral_call(limiter, "GET", SYNC_PATH, params=params)
    if response.status_code == 200:
        return response.json()
    code = error_code(response)
    if code == SYNC_TOKEN_INVALID and not full:
        MessageSyncState.objects.filter(pk=1).update(sync_token="")
        return None
    raise SmsError(
        f"RingCentral's message sync answered HTTP {response.status_code}"
        f"{f' ({code})' if code else ''}",
        code=code,
    )
