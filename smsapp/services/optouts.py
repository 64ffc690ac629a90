"""Opt-outs: who asked for no more texts from which of our numbers, honoured before RingCentral."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from auth_tokens.api import error_code
from smsapp.backends import get_backend
from smsapp.backends.base import PermanentSmsError, SmsError, TransientSmsError
from smsapp.backends.ringcentral import consents_limiter, ringcentral_call
from smsapp.models import Message, OptOut, OptOutChange
from smsapp.phones import is_e164, same_number, to_e164
from smsapp.ratelimit import shared_redis
from smsapp.services.transitions import transition_many

logger = logging.getLogger(__name__)
Source = OptOut.Source
Push = OptOutChange.Push
EVERY_NUMBER = OptOut.EVERY_NUMBER

# RingCentral's Consents API (docs/ringcentral.md#opt-out), Light group.
CONSENTS_PATH = "/restapi/v2/accounts/~/sms/consents"
CONSENTS_SEARCH_PATH = f"{CONSENTS_PATH}/search"
# perPage's documented maximum.
CONSENTS_PAGE_SIZE = 1000
# A list longer than this many pages (100,000 opt-outs) is not one we trust to be complete, and
# an incomplete list must not remove anything here.
MAX_CONSENT_PAGES = 100
# Records per PATCH: the limit is not documented, so a modest batch.
PUSH_BATCH = 100
# Batches one push run sends at most; the rest waits for the next run.
MAX_PUSH_BATCHES = 10
# The answers that mean "this app may not use the Consents API" (a permission missing).
NOT_ALLOWED_CODES = frozenset({"CMN-401", "CMN-408"})
ACCESS_KEY = "smsapp:consents:access"
PUSH_TASK = "smsapp.push_consents"

# What undoes an opt-out, in the words every refusal uses.
UNDO = (
    "they text START to it, or staff with the “Can add and remove opt-outs” permission remove "
    "the opt-out (admin, Opt-outs)"
)


class ConsentsNotAllowedError(PermanentSmsError):
    """RingCentral refused the Consents API to this app (403: a permission is missing)."""


# -- the list --------------------------------------------------------------------------------


def optout_add(
    *,
    our_number: str,
    their_number: str,
    source: str,
    reason: str = "",
    by: AbstractBaseUser | None = None,
    message: Message | None = None,
    inbound_id: str = "",
    inbound_text: str = "",
) -> bool:
    """Record that `their_number` wants no texts from `our_number` ("*": any of ours). True
    when this opted them out, False when they already were (nothing changes then: the first
    cause stays). Either way every text still scheduled for the pair is canceled, in the same
    transaction, with an event saying why.

    Texts already queued or being sent are left alone: they may be at RingCentral already, and
    RingCentral blocks a text to an opted-out pair itself (it ends SendingFailed, SMS-RC-413:
    docs/ringcentral.md#opt-out); a status change here could not stop them."""
    ours = our_number_e164(our_number)
    theirs = their_number_e164(their_number)
    source = Source(source)
    with transaction.atomic():
        row, created = OptOut.objects.get_or_create(
            our_number=ours,
            their_number=theirs,
            defaults={
                "source": source,
                "reason": reason,
                "message": message,
                "inbound_id": inbound_id,
                "inbound_text": inbound_text,
                "created_by": by,
            },
        )
        if created:
            _record_change(
                OptOutChange.Action.OPTED_OUT,
                ours,
                theirs,
                source=source,
                reason=reason,
                by=by,
                message=message,
                inbound_id=inbound_id,
                inbound_text=inbound_text,
            )
        # Also when they already were: a text scheduled at the same moment as the opt-out
        # (its check passed before the opt-out committed) is caught by the next one.
        _cancel_scheduled(row)
    return created


def optout_remove(
    *,
    our_number: str,
    their_number: str,
    source: str,
    reason: str,
    by: AbstractBaseUser | None = None,
    inbound_id: str = "",
    inbound_text: str = "",
) -> bool:
    """Opt `their_number` back in to texts from `our_number` (exactly that row: an account-wide
    "*" opt-out stays until it is removed itself). True when an opt-out was removed; the
    history keeps it, with this reason."""
    ours = our_number_e164(our_number)
    theirs = their_number_e164(their_number)
    source = Source(source)
    with transaction.atomic():
        row = (
            OptOut.objects.select_for_update().filter(our_number=ours, their_number=theirs).first()
        )
        if row is None:
            return False
        _record_change(
            OptOutChange.Action.OPTED_IN,
            ours,
            theirs,
            source=source,
            reason=reason,
            by=by,
            inbound_id=inbound_id,
            inbound_text=inbound_text,
        )
        row.delete()
    return True


def opted_out_numbers(*, our_number: str, numbers: Sequence[str]) -> list[str]:
    """The given E.164 `numbers`, in their order, that opted out of `our_number` (or of every
    number of ours): one query."""
    if not numbers:
        return []
    found = set(
        OptOut.objects.filter(
            their_number__in=list(numbers), our_number__in=[our_number, EVERY_NUMBER]
        ).values_list("their_number", flat=True)
    )
    return [number for number in numbers if number in found]


def optout_for(*, our_number: str, their_number: str) -> OptOut | None:
    """The opt-out that stops texts from `our_number` to `their_number`, if any (the pair's
    own before an account-wide one)."""
    rows = OptOut.objects.filter(
        their_number=their_number, our_number__in=[our_number, EVERY_NUMBER]
    )
    return min(rows, key=lambda row: row.our_number == EVERY_NUMBER, default=None)


def validate_not_opted_out(*, our_number: str, numbers: Sequence[str]) -> None:
    """The refusal of a send to anyone who opted out, naming each of them: the compose form,
    send_sms and message_submit all refuse with it (one query)."""
    if refused := opted_out_numbers(our_number=our_number, numbers=numbers):
        raise ValidationError(
            refusal_text(refused, our_number, asked=len(set(numbers))), code="opted_out"
        )


def refusal_text(numbers: Sequence[str], our_number: str, *, asked: int | None = None) -> str:
    """`asked`: how many numbers the send named; "send to the others" only when there are
    others to send to."""
    named = ", ".join(numbers)
    one = len(numbers) == 1
    who = "This number has" if one else "These numbers have"
    others = asked is None or asked > len(numbers)
    then = f" Remove {'it' if one else 'them'} to send to the others." if others else ""
    return (
        f"{who} opted out of texts from {our_number}: {named}. Nothing was sent.{then} "
        f"What undoes an opt-out: {UNDO}."
    )


def is_opt_out_code(code: str) -> bool:
    """A delivery error that means "the recipient opted out": any *-413 (SMS-RC-, SMS-UP-,
    SMS-CAR-; docs/ringcentral.md#opt-out)."""
    return code.startswith("SMS-") and code.endswith("-413")


def optout_cause(row: OptOut | OptOutChange) -> str:
    """Why the pair opted out (or in), in staff's words."""
    match row.source:
        case Source.KEYWORD:
            words = f"“{row.inbound_text.strip()}”" if row.inbound_text.strip() else "a keyword"
            return f"texted {words}"
        case Source.DELIVERY_ERROR:
            text = f"text #{row.message_id}" if row.message_id else "a text"
            # The reason is the code and its meaning ("SMS-RC-413: recipient opted out").
            return f"RingCentral refused {text}: {row.reason or 'the recipient opted out'}"
        case Source.RINGCENTRAL:
            return "on RingCentral's opt-out list"
        case _:
            return "recorded by staff" + (f": {row.reason}" if row.reason else "")


def _record_change(
    action: str, ours: str, theirs: str, *, source: str, **fields: Any
) -> OptOutChange:
    # Staff changes are news to RingCentral, which blocks sends by its own list: it hears of
    # them after commit (consents_push). Keywords it saw itself, *-413s came from it, and
    # ringcentral rows are its own list: nothing to tell.
    push = Push.PENDING if source == Source.STAFF else Push.NOT_NEEDED
    change = OptOutChange.objects.create(
        our_number=ours, their_number=theirs, action=action, source=source, push=push, **fields
    )
    if push == Push.PENDING:
        _push_after_commit()
    return change


def _cancel_scheduled(row: OptOut) -> list[int]:
    scheduled = Message.objects.filter(status=Message.Status.SCHEDULED, to_number=row.their_number)
    if row.our_number != EVERY_NUMBER:
        scheduled = scheduled.filter(from_number=row.our_number)
    ids = list(scheduled.values_list("pk", flat=True))
    if not ids:
        return []
    return transition_many(
        ids,
        from_statuses=[Message.Status.SCHEDULED],
        to=Message.Status.CANCELED,
        event=f"Canceled: {row.their_number} opted out ({optout_cause(row)})",
    )


def scheduled_pairs_opted_out(pairs: Iterable[tuple[int, str, str]]) -> list[int]:
    """Of (message id, from, to), the ids whose pair opted out: one query (the dispatcher's
    last look before a scheduled text goes to the queue)."""
    pairs = list(pairs)
    if not pairs:
        return []
    rows = OptOut.objects.filter(their_number__in={to for _, _, to in pairs}).values_list(
        "our_number", "their_number"
    )
    out = set(rows)
    return [
        pk for pk, ours, theirs in pairs if (ours, theirs) in out or (EVERY_NUMBER, theirs) in out
    ]


def our_number_e164(raw: str) -> str:
    """One of our numbers in E.164, or "*" (every number of the account); ValidationError if
    it is neither."""
    if raw.strip() == EVERY_NUMBER:
        return EVERY_NUMBER
    return their_number_e164(raw)


def their_number_e164(raw: str) -> str:
    """A number as a person or a RingCentral record writes it, in E.164; ValidationError if it
    is none."""
    raw = (raw or "").strip()
    if is_e164(raw):
        return raw
    # A number as RingCentral or a person writes it ("16505550100", "(650) 555-0100").
    number = to_e164(raw, settings.SMS_DEFAULT_REGION) or to_e164(f"+{raw}", "ZZ")
    if number is None:
        raise ValidationError(
            f"Not a valid phone number: “{raw}”. Use the full number with its country code, "
            "e.g. +16505550123.",
            code="invalid_number",
        )
    return number


# -- RingCentral's consent list -----------------------------------------------------------------


@dataclass(frozen=True)
class ConsentsAccess:
    """Whether RingCentral lets this app use its Consents API, as last seen."""

    state: str  # "allowed", "not_allowed" or "unknown"
    at: datetime | None = None
    code: str = ""

    @property
    def allowed(self) -> bool:
        return self.state == "allowed"

    def sentence(self) -> str:
        if self.state == "allowed":
            return (
                "RingCentral's Consents API is allowed for this app: staff opt-outs are sent "
                "to RingCentral and its opt-out list is copied here."
            )
        if self.state == "not_allowed":
            return (
                "RingCentral's Consents API is not allowed for this app"
                f"{f' ({self.code})' if self.code else ''}: opt-outs are kept in this app "
                "only (RingCentral still blocks texts to people who texted STOP to it). "
                "Give the app the permission in the Developer Console to share them."
            )
        why = f" ({self.code})" if self.code else ""
        return (
            f"Whether RingCentral's Consents API is allowed for this app is not known{why}: "
            "opt-outs are kept in this app meanwhile."
        )


def consents_access() -> ConsentsAccess:
    """What the last call to the Consents API showed (a Redis key; unknown without one)."""
    try:
        raw = shared_redis(settings.REDIS_URL, timeout=2.0).get(ACCESS_KEY)
    except redis.RedisError:
        return ConsentsAccess("unknown")
    if not raw:
        return ConsentsAccess("unknown")
    try:
        data = json.loads(raw)
        return ConsentsAccess(
            "allowed" if data["allowed"] else "not_allowed",
            datetime.fromtimestamp(float(data["at"]), UTC),
            str(data.get("code", "")),
        )
    except (ValueError, KeyError, TypeError):
        return ConsentsAccess("unknown")


def consents_probe() -> ConsentsAccess:
    """Ask RingCentral now (one search of one record) and return what it showed; unknown when
    it could not tell (unreachable, throttled). Asked whatever SMS_BACKEND says: the
    setup check is about RingCentral."""
    body = {"from": [settings.SMS_FROM_NUMBER], "optStatus": "OptOut", "perPage": 1}
    try:
        _consents_call("POST", CONSENTS_SEARCH_PATH, body)
    except ConsentsNotAllowedError:
        pass
    except SmsError as error:
        logger.info("consents probe: %s", error.reason)
        return ConsentsAccess("unknown", code=error.reason)
    return consents_access()


@dataclass(frozen=True)
class ConsentsSync:
    """What one pull of RingCentral's opt-out list changed here."""

    listed: int = 0
    added: int = 0
    removed: int = 0


def consents_sync() -> ConsentsSync:
    """Copy RingCentral's opt-out list for SMS_FROM_NUMBER (and "*", every number of the
    account) into ours, source "ringcentral"; and remove our "ringcentral" rows it no longer
    lists. Those were RingCentral's word only: once it drops one (they texted START to it, or
    it was lifted there), keeping it would refuse texts RingCentral delivers, with nobody here
    able to say why. Rows from our own evidence (a keyword, a *-413, staff) stay: a carrier's
    opt-out (SMS-CAR-413) need not be on RingCentral's list at all. Removal happens only
    after the whole list was read.

    Raises SmsError (ConsentsNotAllowedError on a 403, recorded for consents_access())."""
    if not _talks_to_ringcentral():
        return ConsentsSync()
    ours = settings.SMS_FROM_NUMBER
    listed: dict[tuple[str, str], dict[str, Any]] = {}
    page_token: str | None = None
    for _ in range(MAX_CONSENT_PAGES):
        body: dict[str, Any] = {
            "from": [ours, EVERY_NUMBER],
            "optStatus": "OptOut",
            "perPage": CONSENTS_PAGE_SIZE,
        }
        if page_token:
            body["pageToken"] = page_token
        answer = _consents_call("POST", CONSENTS_SEARCH_PATH, body)
        for record in answer.get("records") or []:
            if pair := _listed_pair(record, ours):
                listed[pair] = record
        page_token = (answer.get("paging") or {}).get("nextPageToken")
        if not page_token:
            break
    else:
        raise TransientSmsError(
            f"RingCentral's opt-out list ran past {MAX_CONSENT_PAGES} pages: nothing removed"
        )
    # A staff change RingCentral has not heard of yet would be undone by its stale list.
    waiting = set(
        OptOutChange.objects.filter(push=Push.PENDING).values_list("our_number", "their_number")
    )
    here = OptOut.objects.filter(our_number__in=[ours, EVERY_NUMBER])
    known = {
        (row.our_number, row.their_number): row.source
        for row in here.only("our_number", "their_number", "source")
    }
    added = removed = 0
    for (our, their), record in listed.items():
        if (our, their) in known or (our, their) in waiting:
            continue
        source = record.get("source") or "unknown source"
        since = record.get("lastModifiedTime") or "an unknown time"
        added += optout_add(
            our_number=our,
            their_number=their,
            source=Source.RINGCENTRAL,
            reason=f"On RingCentral's opt-out list ({source}, since {since})",
        )
    for (our, their), source in known.items():
        if (
            source == Source.RINGCENTRAL
            and (our, their) not in listed
            and (our, their) not in waiting
        ):
            removed += optout_remove(
                our_number=our,
                their_number=their,
                source=Source.RINGCENTRAL,
                reason="No longer on RingCentral's opt-out list (they opted in there)",
            )
    return ConsentsSync(listed=len(listed), added=added, removed=removed)


def consents_push() -> int:
    """Tell RingCentral the current state of every pair with a staff change it has not heard
    of (PATCH .../sms/consents, source "Api"); returns how many pairs it took. The state is
    read when sending, so an out-of-order or repeated push still ends on the latest. Nothing is
    lost on an error: the changes stay pending for the next run.

    Raises SmsError (ConsentsNotAllowedError on a 403, recorded for consents_access())."""
    if not _talks_to_ringcentral():
        return 0
    pushed = 0
    for _ in range(MAX_PUSH_BATCHES):
        pending = list(
            OptOutChange.objects.filter(push=Push.PENDING)
            .order_by("id")
            .values_list("pk", "our_number", "their_number")[: PUSH_BATCH * 2]
        )
        if not pending:
            break
        pairs = list(dict.fromkeys((ours, theirs) for _, ours, theirs in pending))[:PUSH_BATCH]
        changes = {pk for pk, ours, theirs in pending if (ours, theirs) in pairs}
        out = set(
            OptOut.objects.filter(their_number__in={t for _, t in pairs}).values_list(
                "our_number", "their_number"
            )
        )
        records = [
            {
                "from": ours,
                "to": theirs,
                "optStatus": "OptOut" if (ours, theirs) in out else "OptIn",
                "source": "Api",
            }
            for ours, theirs in pairs
        ]
        answer = _consents_call("PATCH", CONSENTS_PATH, {"records": records})
        failed = {_listed_pair(r, None, any_sender=True) for r in answer.get("failedRecords") or []}
        for record in answer.get("failedRecords") or []:
            # No number is a secret; the record says what RingCentral refused and why.
            logger.warning("RingCentral refused a consent change: %s", json.dumps(record)[:500])
        refused = [pk for pk, ours, theirs in pending if pk in changes and (ours, theirs) in failed]
        OptOutChange.objects.filter(pk__in=refused).update(push=Push.FAILED)
        OptOutChange.objects.filter(pk__in=changes - set(refused)).update(push=Push.DONE)
        pushed += len(pairs)
    return pushed


def _listed_pair(
    record: Any, ours: str | None, *, any_sender: bool = False
) -> tuple[str, str] | None:
    """(our number or "*", their number) of a consent record, numbers compared as parsed
    numbers (records write them "usually" in E.164: docs/ringcentral.md#message-store-lists);
    None for a record that is not about `ours`."""
    if not isinstance(record, dict):
        return None
    sender = _record_number(record.get("from"))
    recipient = _record_number(record.get("to"))
    if sender is None or recipient is None or recipient == EVERY_NUMBER:
        return None
    if sender == EVERY_NUMBER:
        return EVERY_NUMBER, recipient
    if any_sender:
        return sender, recipient
    if ours and same_number(sender, ours):
        return ours, recipient
    return None


def _record_number(value: Any) -> str | None:
    if isinstance(value, dict):  # {"phoneNumber": ...}, as message records write them
        value = value.get("phoneNumber")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return our_number_e164(value)
    except ValidationError:
        return None


def _consents_call(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = ringcentral_call(consents_limiter(), method, path, json=body)
    code = error_code(response)
    if response.status_code == 403 or code in NOT_ALLOWED_CODES:
        _record_access(allowed=False, code=code or "HTTP-403")
        raise ConsentsNotAllowedError(
            ConsentsAccess("not_allowed", code=code or "HTTP-403").sentence(),
            code=code or "HTTP-403",
        )
    if response.status_code != 200:
        raise TransientSmsError(
            f"RingCentral's Consents API answered HTTP {response.status_code}"
            f"{f', {code}' if code else ''}",
            code=code or f"HTTP-{response.status_code}",
        )
    _record_access(allowed=True, code="")
    try:
        answer = response.json()
    except ValueError as error:
        raise TransientSmsError("RingCentral's Consents API answer was not JSON") from error
    return answer if isinstance(answer, dict) else {}


def _record_access(*, allowed: bool, code: str) -> None:
    try:
        shared_redis(settings.REDIS_URL, timeout=2.0).set(
            ACCESS_KEY,
            json.dumps({"allowed": allowed, "at": datetime.now(UTC).timestamp(), "code": code}),
        )
    except redis.RedisError:
        logger.warning("could not record whether the Consents API is allowed (Redis)")


def _talks_to_ringcentral() -> bool:
    return get_backend().talks_to_ringcentral


def _push_after_commit() -> None:
    """Queue one push task when the transaction commits (once, however many staff changes it
    holds: an import of thousands makes one task). The beat's sync pushes too, so a broker
    outage only delays it."""
    pending = getattr(connection, "run_on_commit", [])
    if any(func is _queue_push for _, func, *_ in pending):
        return
    transaction.on_commit(_queue_push)


def _queue_push() -> None:
    try:
        current_app.send_task(PUSH_TASK)
    except Exception:  # kombu raises several types; the beat's sync_consents pushes as well
        logger.exception("could not queue the consents push; the next sync will do it")
