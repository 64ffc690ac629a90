"""Message sync (`GET .../message-sync`): full (FSync) and incremental (ISync) syncs."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ringcentral_sim.config import SimConfig
from ringcentral_sim.errors import ApiError, invalid_parameter
from ringcentral_sim.messages import (
    LIST_ENUMS,
    POSITIVE_INT,
    MessageStore,
    StoredMessage,
    iso,
    parse_store_date,
    render,
    status_at,
    user_owner,
)

SYNC_TYPES = ("FSync", "ISync")
# The filters a sync takes (SyncMessagesParameters: direction and messageType, both
# multi-valued); an ISync keeps those of the FSync its token comes from.
SYNC_FILTERS = ("direction", "messageType")


@dataclass
class SyncState:
    """What a syncToken stands for: whose sync, when it ran, and with which filters."""

    owner: str
    sync_time: float
    filters: dict[str, frozenset[str]]


class SyncTokens:
    """Not thread-safe on its own: the simulator calls it under its state lock."""

    def __init__(self) -> None:
        self._tokens: dict[str, SyncState] = {}

    def issue(self, state: SyncState) -> str:
        # Opaque, like RingCentral's: the app stores it and sends it back, nothing more.
        token = "SIMSYNC-" + secrets.token_urlsafe(18)
        self._tokens[token] = state
        return token

    def find(self, token: str, owner: str, *, now: float, ttl: float) -> SyncState:
        state = self._tokens.get(token)
        expired = state is not None and ttl > 0 and now - state.sync_time > ttl
        if state is None or state.owner != owner or expired:
            # The guide: MSG-333 means "start again with a full sync".
            raise ApiError(400, "MSG-333", "Sync token is invalid or expired: do a full sync")
        return state

    def clear(self) -> int:
        count = len(self._tokens)
        self._tokens.clear()
        return count


def sync(
    config: SimConfig,
    store: MessageStore,
    tokens: SyncTokens,
    user: dict[str, Any],
    values: Callable[[str], list[str]],
    *,
    now: float,
    base_url: str,
) -> dict[str, Any]:
    """The GetMessageSyncResponse for one request, given `values(name)` of its query."""
    sync_type = _first(values, "syncType")
    if sync_type not in SYNC_TYPES:
        raise invalid_parameter("syncType")
    owner = user_owner(user)
    record_count: int | None = None
    if sync_type == "FSync":
        filters = _filters(values)
        given_to = _date(values, "dateTo", config)
        date_to = now if given_to is None else given_to
        date_from = _date(values, "dateFrom", config)
        # SyncMessagesParameters.dateFrom: "The default value is dateTo minus 24 hours".
        start = date_to - 86400 if date_from is None else date_from
        end = date_to
        count = _first(values, "recordCount")
        if count is not None:
            if not POSITIVE_INT.match(count) or int(count) < 1:
                raise invalid_parameter("recordCount")
            record_count = int(count)
    else:
        token = _first(values, "syncToken")
        if not token:
            raise invalid_parameter("syncToken")
        state = tokens.find(token, owner, now=now, ttl=config.sync_token_ttl_seconds)
        filters = state.filters
        # What changed since the last sync, with an overlap (the guide: windows overlap by
        # about 5 s, so a record can come twice and the app dedupes by id).
        start = state.sync_time - config.sync_overlap_seconds
        end = now
    found = [
        (message, changed_at)
        for message in store.messages
        if message.owner == owner
        and message.created_at + config.store_list_lag_seconds <= now
        and all(message.value_of(name) in wanted for name, wanted in filters.items())
        for changed_at in [_changed_at(config, message, now)]
        if start <= changed_at <= end
    ]
    # Newest change first; recordCount keeps the newest and says older ones exist.
    found.sort(key=lambda pair: (pair[1], pair[0].id), reverse=True)
    older = record_count is not None and len(found) > record_count
    if record_count is not None:
        found = found[:record_count]
    new_token = tokens.issue(SyncState(owner=owner, sync_time=now, filters=filters))
    return {
        "uri": f"{base_url}/restapi/v1.0/account/~/extension/~/message-sync",
        "records": [render(config, m, base_url=base_url, now=now) for m, _ in found],
        "syncInfo": {
            "syncType": sync_type,
            "syncToken": new_token,
            "syncTime": iso(now),
            "olderRecordsExist": older,
        },
    }


def _changed_at(config: SimConfig, message: StoredMessage, now: float) -> float:
    return status_at(config, message, now)[1]


def _first(values: Callable[[str], list[str]], name: str) -> str | None:
    given = values(name)
    return given[0] if given else None


def _filters(values: Callable[[str], list[str]]) -> dict[str, frozenset[str]]:
    filters: dict[str, frozenset[str]] = {}
    for name in SYNC_FILTERS:
        given = values(name)
        if any(v not in LIST_ENUMS[name] for v in given):
            raise invalid_parameter(name)
        if given:
            filters[name] = frozenset(given)
    return filters


def _date(values: Callable[[str], list[str]], name: str, config: SimConfig) -> float | None:
    value = _first(values, name)
    if value is None:
        return None
    # The same form, and the same strictness, as the message-store list.
    return parse_store_date(name, value, strict=config.strict_store_dates)
