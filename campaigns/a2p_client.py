"""RingCentral's high-volume (A2P) SMS API: the HTTP shapes, and what each answer means.

Every call goes through `smsapp.backends.ringcentral.ringcentral_call`, so the fleet's Light-group
limiter, the shared token and the error classes are the ones every other RingCentral call uses.
What the answers mean for a batch (and why) is in docs/a2p.md; the services that act on them are
in campaigns/services/a2p.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from auth_tokens.api import error_code, retry_after
from smsapp.backends.base import (
    AmbiguousSmsError,
    AuthWaitSmsError,
    PermanentSmsError,
    TransientSmsError,
)
from smsapp.backends.ringcentral import (
    AUTH_RECHECK_SECONDS,
    delivery_poll_limiter,
    ringcentral_call,
    store_limiter,
    store_time,
)
from smsapp.ratelimit import FleetRateLimiter

BATCHES_PATH = "/restapi/v1.0/account/~/a2p-sms/batches"
MESSAGES_PATH = "/restapi/v1.0/account/~/a2p-sms/messages"
# Records per page: the maximum of RingCentral's token-paged lists (ListA2PSMSParameters'
# default, NonEnumeratedPagingModel's ceiling).
PAGE_SIZE = 1000
# A batch holds at most 10,000 texts (10 pages); a lookup window of one attempt holds a few
# batches. A list that runs past this is not one we can trust to have read to its end.
MAX_PAGES = 20
logger = logging.getLogger(__name__)


def send_limiter() -> FleetRateLimiter:
    """The batch request and the lookup after a lost answer share the store searches'
    ceiling: both decide whether texts go out twice, and one request carries up to 10,000
    texts, so they must never wait behind routine status reads."""
    return store_limiter()


def poll_limiter() -> FleetRateLimiter:
    """Status polling stops at delivery polling's ceiling, below the searches' reserve."""
    return delivery_poll_limiter()


@dataclass(frozen=True)
class Rejection:
    """One entry of the POST answer's `rejected` (RejectedRecipientResponseResource)."""

    index: int  # 1-based position in the `messages` list we sent
    to: tuple[str, ...]
    code: str
    description: str


@dataclass(frozen=True)
class BatchAnswer:
    id: str
    batch_size: int | None
    status: str
    rejected: tuple[Rejection, ...]


def send_batch(from_number: str, messages: Sequence[tuple[str, str]]) -> BatchAnswer:
    """POST one batch, one message per (number, text), no default text: each row carries its
    own words, so a row can never go out with another row's text.

    Raises AmbiguousSmsError when the batch may have been created (no answer, an unreadable
    answer, a 5xx other than 503), TransientSmsError/RateLimitedSmsError/AuthWaitSmsError/
    ConfigurationSmsError when it certainly was not, PermanentSmsError when RingCentral refused
    the request itself (403 for a sender without A2PSmsSender, 400 for an invalid request)."""
    body = {
        "from": from_number,
        "messages": [{"to": [number], "text": text} for number, text in messages],
    }
    response = ringcentral_call(send_limiter(), "POST", BATCHES_PATH, json=body, sends=True)
    if response.status_code in (200, 201):
        return _batch_answer(response)
    code = error_code(response)
    status = response.status_code
    if status == 401:  # still 401 after one fresh token: a login problem, nothing processed
        raise AuthWaitSmsError(
            f"RingCentral refused the app's token ({code or 'HTTP 401'})",
            code=code or "HTTP-401",
            retry_after=AUTH_RECHECK_SECONDS,
        )
    if status in (408, 503) or code == "MSG-290":
        # Refused before processing (the gateway's "try later"), as the single-text path
        # reads these (docs/exactly-once.md, "When a send fails").
        raise TransientSmsError(
            f"RingCentral could not take the batch right now (HTTP {status}"
            f"{f', {code}' if code else ''})",
            code=code or f"HTTP-{status}",
            retry_after=retry_after(response, None),
        )
    if status >= 500:
        # A 500, 502 or 504 can come after the batch was created (a gateway timing out on a
        # slow backend): one lookup costs seconds, a wrong guess texts thousands twice.
        raise AmbiguousSmsError(
            f"RingCentral answered HTTP {status}{f' ({code})' if code else ''} to the batch: "
            "it may have been created",
            code=code or f"HTTP-{status}",
        )
    raise PermanentSmsError(
        refusal_reason(code, status, from_number), code=code or f"HTTP-{status}"
    )


def refusal_reason(code: str, status: int, from_number: str) -> str:
    """Why RingCentral refused a whole batch, in words an admin can act on."""
    named = f"HTTP {status}{f', {code}' if code else ''}"
    if status == 403:
        return (
            f"RingCentral refused the batch ({named}): {from_number} cannot send high-volume "
            "texts (the number lacks the A2PSmsSender feature, or the app lacks the A2PSMS "
            "permission). An admin must fix this in RingCentral or SMS_A2P_FROM_NUMBER; the "
            "bulk send is paused meanwhile."
        )
    if status == 413:
        return f"RingCentral refused the batch as too large ({named}): lower SMS_A2P_BATCH_SIZE."
    return f"RingCentral refused the batch ({named}); nothing in it was sent."


def list_batches(since: datetime) -> list[dict[str, Any]]:
    """Every batch of the account created since `since`, all pages.

    No `from` filter: the caller compares senders as parsed numbers. How the filter matches
    (with or without "+") is not something a lookup may depend on: a filter that missed would
    make a created batch look absent, and it would be sent again (the same reason the
    single-text store search has no phoneNumber filter, docs/exactly-once.md). A lookup window
    is one attempt's minutes, so the whole account's list is short."""
    params = {"dateFrom": store_time(since), "perPage": PAGE_SIZE}
    return _all_pages(send_limiter(), BATCHES_PATH, params, what="RingCentral's batch list")


def get_batch(batch_id: str) -> dict[str, Any]:
    response = ringcentral_call(poll_limiter(), "GET", f"{BATCHES_PATH}/{batch_id}")
    _raise_for_read(response, "the batch")
    return _json_object(response, "the batch")


def list_batch_messages(batch_id: str, since: datetime) -> list[dict[str, Any]]:
    """Every message record of one batch, all pages. `dateFrom` is given because the list
    otherwise starts 24 hours before now (ListA2PSMSParameters), and a batch is polled for up
    to a day after it was accepted."""
    params = {
        "batchId": batch_id,
        "view": "Detailed",
        "dateFrom": store_time(since),
        "perPage": PAGE_SIZE,
    }
    return _all_pages(poll_limiter(), MESSAGES_PATH, params, what="the batch's messages")


def record_numbers(record: dict[str, Any]) -> list[str]:
    """A message record's recipients: `to` is a list of strings in the A2P definitions
    (MessageListMessageResponse); the message store's {phoneNumber} shape is read too."""
    numbers: list[str] = []
    for item in record.get("to") or []:
        if isinstance(item, str):
            numbers.append(item)
        elif isinstance(item, dict) and isinstance(item.get("phoneNumber"), str):
            numbers.append(item["phoneNumber"])
    return numbers


def parse_time(value: Any) -> datetime | None:
    """A record's creationTime, or None when it cannot be read."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _all_pages(
    limiter: FleetRateLimiter, path: str, params: dict[str, Any], *, what: str
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    seen_tokens: set[str] = set()
    page_params = dict(params)
    for _ in range(MAX_PAGES):
        response = ringcentral_call(limiter, "GET", path, params=page_params)
        _raise_for_read(response, what)
        body = _json_object(response, what)
        records.extend(r for r in body.get("records") or [] if isinstance(r, dict))
        token = (body.get("paging") or {}).get("nextPageToken")
        if not token:
            return records
        if token in seen_tokens:  # a server handing out the same page again: stop, unsure
            raise TransientSmsError(f"{what} repeated a page token")
        seen_tokens.add(token)
        # The same query with the token: the token names where the next page starts, the
        # filters still say what is listed.
        page_params = {**params, "pageToken": token}
    raise TransientSmsError(f"{what} had more than {MAX_PAGES} pages")


def _raise_for_read(response: requests.Response, what: str) -> None:
    if response.status_code == 200:
        return
    code = error_code(response)
    if response.status_code == 401:
        raise AuthWaitSmsError(
            f"RingCentral refused the app's token ({code or 'HTTP 401'})",
            code=code or "HTTP-401",
            retry_after=AUTH_RECHECK_SECONDS,
        )
    # Any other refusal of a read (a 400, a 404, a 5xx) says nothing about what was sent:
    # the caller tries again later, never takes it for an empty list.
    raise TransientSmsError(
        f"could not read {what} (HTTP {response.status_code}{f', {code}' if code else ''})",
        code=code or f"HTTP-{response.status_code}",
    )


def _json_object(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as error:
        raise TransientSmsError(f"{what}: RingCentral's answer was not JSON") from error
    if not isinstance(body, dict):
        raise TransientSmsError(f"{what}: RingCentral's answer was not a JSON object")
    return body


def _batch_answer(response: requests.Response) -> BatchAnswer:
    try:
        body = response.json()
    except ValueError:
        body = None
    batch_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(batch_id, str | int) or not str(batch_id):
        # RingCentral took the request (2xx) but we cannot tell which batch it made: the
        # lookup finds it, a resend could duplicate it.
        logger.warning("A2P batch answer without an id: HTTP %s", response.status_code)
        raise AmbiguousSmsError("RingCentral accepted the batch but its answer had no id")
    assert isinstance(body, dict)
    size = body.get("batchSize")
    rejected = []
    for item in body.get("rejected") or []:
        if not isinstance(item, dict) or not isinstance(item.get("index"), int):
            logger.warning("A2P batch %s: unreadable rejection %r", batch_id, item)
            continue
        to = item.get("to")
        numbers = tuple(n for n in to if isinstance(n, str)) if isinstance(to, list) else ()
        rejected.append(
            Rejection(
                index=item["index"],
                to=numbers,
                code=str(item.get("errorCode") or ""),
                description=str(item.get("description") or ""),
            )
        )
    return BatchAnswer(
        id=str(batch_id),
        batch_size=size if isinstance(size, int) else None,
        status=str(body.get("status") or ""),
        rejected=tuple(rejected),
    )
