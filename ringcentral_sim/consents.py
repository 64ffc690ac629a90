"""Opt-out state: STOP/START keywords in inbound texts and the SMS consents API (v2)."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

from ringcentral_sim.errors import ApiError, invalid_parameter
from ringcentral_sim.messages import E164, digits, iso

# docs/ringcentral.md#opt-out: keywords that opt a (sender, recipient) pair out, and back in.
OPT_OUT_KEYWORDS = frozenset({"STOP", "UNSUBSCRIBE", "QUIT", "CANCEL", "END"})
OPT_IN_KEYWORDS = frozenset({"START", "SUBSCRIBE", "RESUME", "CONTINUE", "UNSTOP"})
# UpdateSmsOptRecord / SmsOptRecord enums.
OPT_STATUSES = ("OptOut", "OptIn")
SOURCES = ("Recipient", "Api", "Upstream", "Carrier")
COVERAGES = ("PhoneNumber", "Account", "CampaignType")
ALL_SENDERS = "*"
# SearchSmsConsentRecordsRequest.perPage: default 100, 1..1000, a larger value is clamped.
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
# The code RingCentral blocks a send to an opted-out pair with (docs/ringcentral.md#opt-out).
OPTED_OUT_CODE = "SMS-RC-413"


def keyword_status(text: str) -> str | None:
    """ "OptOut" or "OptIn" when the whole text is one keyword, case-insensitive, once spaces
    and punctuation around it are stripped (" stop! ", "Stop."); None otherwise ("stop please").
    """
    start, end = 0, len(text)
    while start < end and _is_padding(text[start]):
        start += 1
    while end > start and _is_padding(text[end - 1]):
        end -= 1
    word = text[start:end].upper()
    if word in OPT_OUT_KEYWORDS:
        return "OptOut"
    if word in OPT_IN_KEYWORDS:
        return "OptIn"
    return None


def _is_padding(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in ("P", "Z")


@dataclass
class OptRecord:
    account: str
    from_number: str  # one of the account's numbers, or "*" for all of them
    to_number: str
    status: str
    source: str
    modified_at: float
    # Breaks ties between records changed in the same millisecond: the later change wins.
    seq: int = 0

    def render(self) -> dict[str, Any]:
        # SmsOptRecord.
        return {
            "from": self.from_number,
            "to": self.to_number,
            "optStatus": self.status,
            "source": self.source,
            "lastModifiedTime": iso(self.modified_at),
        }


class Consents:
    """Not thread-safe on its own: the simulator calls it under its state lock."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str, str], OptRecord] = {}
        self._seq = itertools.count(1)

    def set(
        self,
        account: str,
        from_number: str,
        to_number: str,
        status: str,
        source: str,
        *,
        now: float,
    ) -> OptRecord:
        record = OptRecord(account, from_number, to_number, status, source, now, next(self._seq))
        self._records[(account, from_number, to_number)] = record
        return record

    def blocking(self, account: str, from_number: str, to_number: str) -> OptRecord | None:
        """The opt-out that stops `from_number` texting `to_number`, if any. A pair record and
        an account-wide ("*") record may both apply: the one changed last decides (our reading;
        the reference does not say how they combine)."""
        candidates = [
            record
            for key in ((account, from_number, to_number), (account, ALL_SENDERS, to_number))
            if (record := self._records.get(key)) is not None
        ]
        latest = max(candidates, key=lambda r: (r.modified_at, r.seq), default=None)
        return latest if latest is not None and latest.status == "OptOut" else None

    def opted_out(self) -> list[dict[str, Any]]:
        return [r.render() for r in self._records.values() if r.status == "OptOut"]

    # -- PATCH /restapi/v2/accounts/~/sms/consents ------------------------------------------

    def patch(
        self, account: str, account_numbers: set[str], body: Any, *, now: float
    ) -> dict[str, Any]:
        """OptRecordsModificationSummary: good records are applied, bad ones come back in
        failedRecords with an `error` (SmsOptFailureRecord)."""
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            raise invalid_parameter("records")
        failed: list[dict[str, Any]] = []
        for item in records:
            problem = _record_problem(item, account_numbers)
            if problem is not None:
                # The record as sent, its string fields at least (SmsOptFailureRecord).
                given = item if isinstance(item, dict) else {}
                echo = {
                    k: given[k]
                    for k in ("from", "to", "optStatus", "source")
                    if isinstance(given.get(k), str)
                }
                failed.append(
                    {
                        **echo,
                        "error": {
                            "errorCode": "CMN-101",
                            "message": f"Parameter [{problem}] value is invalid",
                        },
                    }
                )
                continue
            self.set(account, item["from"], item["to"], item["optStatus"], item["source"], now=now)
        return {"failedRecords": failed}

    # -- POST /restapi/v2/accounts/~/sms/consents/search -------------------------------------

    def search(self, account: str, body: Any) -> dict[str, Any]:
        """OptRecordList: records matching SearchSmsConsentRecordsRequest, newest first, paged
        by opaque page tokens (NonEnumeratedPagingModel)."""
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise invalid_parameter("body")
        wanted_from = _number_list(body, "from", allow_all=True)
        wanted_to = _number_list(body, "to", allow_all=False)
        status = body.get("optStatus")
        if status is not None and status not in OPT_STATUSES:
            raise invalid_parameter("optStatus")
        coverage = body.get("coverage")
        if coverage is not None and (
            not isinstance(coverage, list) or any(c not in COVERAGES for c in coverage)
        ):
            raise invalid_parameter("coverage")
        per_page = body.get("perPage", DEFAULT_PER_PAGE)
        if not isinstance(per_page, int) or isinstance(per_page, bool) or per_page < 1:
            raise invalid_parameter("perPage")
        per_page = min(per_page, MAX_PER_PAGE)
        offset = _offset(body.get("pageToken"))
        found = [
            r
            for r in self._records.values()
            if r.account == account
            and (wanted_from is None or _key(r.from_number) in wanted_from)
            and (wanted_to is None or _key(r.to_number) in wanted_to)
            and (status is None or r.status == status)
            and (coverage is None or _coverage(r) in coverage)
        ]
        found.sort(key=lambda r: (r.modified_at, r.seq), reverse=True)
        page = found[offset : offset + per_page]
        paging: dict[str, Any] = {"perPage": per_page, "firstPageToken": _token(0)}
        if page:
            paging["pageToken"] = _token(offset)
        if offset + per_page < len(found):
            paging["nextPageToken"] = _token(offset + per_page)
        return {"records": [r.render() for r in page], "paging": paging}


def _record_problem(item: Any, account_numbers: set[str]) -> str | None:
    """The name of the first bad field of one UpdateSmsOptRecord, or None when it is good."""
    if not isinstance(item, dict):
        return "records"
    sender = item.get("from")
    # `from` is "*" (all the account's numbers) or one of the account's own numbers.
    if sender != ALL_SENDERS and (
        not isinstance(sender, str) or not E164.match(sender) or sender not in account_numbers
    ):
        return "from"
    if not isinstance(item.get("to"), str) or not E164.match(item["to"]):
        return "to"
    if item.get("optStatus") not in OPT_STATUSES:
        return "optStatus"
    # Required by UpdateSmsOptRecord; the simulator does not default it.
    if item.get("source") not in SOURCES:
        return "source"
    return None


def _key(number: str) -> str:
    return number if number == ALL_SENDERS else digits(number)


def _coverage(record: OptRecord) -> str:
    return "Account" if record.from_number == ALL_SENDERS else "PhoneNumber"


def _number_list(body: dict[str, Any], name: str, *, allow_all: bool) -> set[str] | None:
    given = body.get(name)
    if given is None:
        return None
    if not isinstance(given, list) or not all(isinstance(v, str) for v in given):
        raise invalid_parameter(name)
    if any(not (E164.match(v) or (allow_all and v == ALL_SENDERS)) for v in given):
        raise invalid_parameter(name)
    return {_key(v) for v in given}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: Any) -> int:
    if token is None or token == "":
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise invalid_parameter("pageToken") from exc
    if not isinstance(offset, int) or offset < 0:
        raise invalid_parameter("pageToken")
    return offset


def permission_denied(code: str) -> ApiError:
    """403 for an app (CMN-401) or a user (CMN-408) without the SMS permission the consents
    endpoints need (the guide's error table; App Permission "SMS" in the reference)."""
    if code == "CMN-408":
        text = "In order to call this API endpoint, user needs to have [SMS] permission"
    else:
        code = "CMN-401"
        text = "In order to call this API endpoint, application needs to have [SMS] permission"
    return ApiError(403, code, text, permission="SMS")
