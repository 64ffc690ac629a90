"""The rules a send must follow, each defined once with one wording: the compose form, send_sms
and services.messages (the final authority, whoever calls it) raise these same errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import ParamSpec

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from smsapp.phones import is_e164
from smsapp.segments import MAX_TEXT_UNITS, utf16_units, visible_characters

# Room for one number as people type them ("+1 (650) 555-0101, " is 19 characters), twice
# over. Bounds the raw list before it is parsed: libphonenumber costs about 30 µs a number,
# and an unbounded paste would tie up a web worker.
CHARS_PER_RECIPIENT = 40
# An error naming 500 bad entries helps nobody: the first few show what is wrong.
MAX_INVALID_NAMED = 10
# A send time up to this long ago means "now". The form's times have minute precision (the
# current minute, picked at its 59th second and submitted a few seconds later, is already a
# minute old) and a person may spend a while on the confirmation step. Anything older is a
# mistake (a wrong day or year), and sending it at once would surprise.
SEND_AT_GRACE = timedelta(minutes=2)
# An idempotency key: what the compose form makes (services.messages.new_submission_key), a
# UUID, or any short token a script picks. Letters only from a safe set: it is echoed in a
# hidden field.
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}", re.ASCII)
# SUBMISSION_KEY in words: the error says it, and so does send_sms --help.
SUBMISSION_KEY_RULE = "1 to 64 letters, digits, “-”, “_”, “.” or “:” (a UUID will do)"
# Also the form fields' "required" errors: an empty field reads the same as a blank one.
NO_RECIPIENTS = "Give at least one phone number."
NO_TEXT = "Write a message."

P = ParamSpec("P")


def recipients_input_limit() -> int:
    return settings.SMS_MAX_RECIPIENTS * CHARS_PER_RECIPIENT


def validate_recipients_input(raw: str) -> None:
    """The recipient list as typed is short enough to read at all: checked before parsing,
    since parsing is the cost bounded."""
    limit = recipients_input_limit()
    if len(raw) > limit:
        raise ValidationError(
            f"The recipient list is {len(raw):,} characters long, more than {limit:,}: one "
            f"send goes to at most {settings.SMS_MAX_RECIPIENTS} recipients "
            "(SMS_MAX_RECIPIENTS). Split the list into several sends.",
            code="recipients_input_too_long",
        )


def validate_recipients(numbers: Sequence[str], *, invalid: Sequence[str] = ()) -> None:
    """The recipients of one send: every one a phone number in E.164, at least one, at most
    SMS_MAX_RECIPIENTS. `invalid`: entries a parse of the typed list already refused (the form
    and send_sms parse; the service gets E.164 numbers, and names any that are not)."""
    bad = [*invalid, *(number for number in numbers if not is_e164(number))]
    if bad:
        shown = ", ".join(f"“{entry}”" for entry in bad[:MAX_INVALID_NAMED])
        more = f" and {len(bad) - MAX_INVALID_NAMED} more" if len(bad) > MAX_INVALID_NAMED else ""
        # The example is E.164 itself: the form also takes "+1 650 555 0123", the service only
        # this, and one wording must be right for both.
        raise ValidationError(
            f"Not a valid phone number: {shown}{more}. Use the full number with its country "
            "code, e.g. +16505550123.",
            code="invalid_number",
        )
    if not numbers:
        raise ValidationError(NO_RECIPIENTS, code="no_recipients")
    validate_recipient_limit(len(numbers))


def validate_recipient_limit(count: int) -> None:
    """`count` recipients are not too many for one send: a slip of the paste must not queue
    hours of RingCentral's rate limit in one click."""
    limit = settings.SMS_MAX_RECIPIENTS
    if count > limit:
        raise ValidationError(
            f"That is {count} recipients; one send goes to at most {limit} "
            "(SMS_MAX_RECIPIENTS). Split the list into several sends.",
            code="too_many_recipients",
        )


def validate_name(name: str, *, missing: str, max_length: int) -> None:
    """A name staff give a thing (a template, a recurring send), already stripped: given, and
    within its column. `missing` says what to write, in the thing's own words."""
    if not name:
        raise ValidationError(missing, code="no_name")
    if len(name) > max_length:
        raise ValidationError(
            f"The name is {len(name)} characters long; the limit is {max_length}.",
            code="name_too_long",
        )


def validate_text(text: str) -> None:
    """Something to say, at most MAX_TEXT_UNITS long as RingCentral counts (UTF-16 units)."""
    if not text or not text.strip():
        raise ValidationError(NO_TEXT, code="empty_text")
    units = utf16_units(text)
    if units > MAX_TEXT_UNITS:
        # Both counts: the limit is RingCentral's (UTF-16 units), but people count what they
        # see, and "1001 characters" for 1000 visible ones reads as a miscount.
        raise ValidationError(
            f"The message is {units} characters long as RingCentral counts them "
            f"({visible_characters(text)} as you see them: emoji and some symbols count as "
            f"two); the limit is {MAX_TEXT_UNITS}.",
            code="text_too_long",
        )


def validate_send_at(send_at: datetime, *, now: datetime | None = None) -> None:
    """`send_at` can be used; the error states the whole rule.

    Any time from two minutes ago (SEND_AT_GRACE: sent at once) up to SMS_MAX_SCHEDULE_DAYS
    ahead (scheduled to the second). Times in errors are shown in the current zone: on the web
    the person's (their setting on "Your settings", else their browser's; smsapp.middleware),
    UTC in a command.
    """
    now = now or timezone.now()
    days = settings.SMS_MAX_SCHEDULE_DAYS
    try:
        latest: datetime | None = now + timedelta(days=days)
    except OverflowError:  # a limit past the year 9999: no time Python can hold exceeds it
        latest = None
    until = f" (until {_shown(latest)})" if latest else ""
    rule = f"pick a time from now up to {days} days ahead{until}, or leave it empty to send now"
    past = f"{as_given(send_at)} is in the past"
    too_late = f"{as_given(send_at)} is more than {days} days ahead: {rule}."
    try:
        instant = send_at.astimezone(UTC)
    except OverflowError:
        # 9999-12-31 west of UTC is already the year 10000 in UTC (0001-01-01 east of it is
        # still the year 0): past the ends of what a datetime can hold, so certainly out of range.
        if send_at.year > now.year:
            raise ValidationError(too_late, code="send_at_too_late") from None
        raise ValidationError(f"{past}: {rule}.", code="send_at_past") from None
    if instant < now - SEND_AT_GRACE:
        raise ValidationError(f"{past} (it is now {_shown(now)}): {rule}.", code="send_at_past")
    if latest is not None and instant > latest:
        raise ValidationError(too_late, code="send_at_too_late")


def is_submission_key(key: str | None) -> bool:
    return bool(key) and SUBMISSION_KEY.fullmatch(key or "") is not None


def validate_submission_key(key: str) -> None:
    if not is_submission_key(key):
        raise ValidationError(
            f"The submission key must be {SUBMISSION_KEY_RULE}. Nothing was sent.",
            code="invalid_submission_key",
        )


def validate_from_number(number: str) -> None:
    """The number texts go out from, a setting: only an admin can fix it."""
    if not is_e164(number):
        raise ValidationError(
            "SMS_FROM_NUMBER is not set to an E.164 number: an admin must configure it.",
            code="invalid_from_number",
        )


def validate_send(
    *,
    to_numbers: Sequence[str],
    text: str,
    send_at: datetime | None,
    from_number: str,
    now: datetime | None = None,
) -> None:
    """Every rule of one send at once, each error under the field it is about ("to", "text",
    "send_at"; the sender number under NON_FIELD_ERRORS), so a form shows each beside its
    field and send_sms names the option."""
    checks: dict[str, Callable[[], None]] = {
        "to": lambda: validate_recipients(to_numbers),
        "text": lambda: validate_text(text),
        "send_at": lambda: None if send_at is None else validate_send_at(send_at, now=now),
        NON_FIELD_ERRORS: lambda: validate_from_number(from_number),
    }
    validate_each(checks)


def validate_each(checks: Mapping[str, Callable[[], None]]) -> None:
    """Run every check, and raise their errors together, each under its field: a form shows
    them all at once, beside their fields, instead of one per submission."""
    errors: dict[str, list[ValidationError]] = {}
    for field, check in checks.items():
        try:
            check()
        except ValidationError as error:
            errors[field] = error.error_list
    if errors:
        raise ValidationError(errors)


def problem(validate: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> str | None:
    """The words `validate` refuses with, or None: for answers that carry the error rather
    than raise it (the compose page's live preview)."""
    try:
        validate(*args, **kwargs)
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def as_given(when: datetime) -> str:
    """A time in its own zone, as the person gave it: the zone's name (from the tz cookie) or
    the UTC offset they typed."""
    zone = getattr(when.tzinfo, "key", None) or when.tzname() or "UTC"
    return f"{when:%Y-%m-%d %H:%M} {zone}"


def _shown(when: datetime) -> str:
    """A time in the current zone, with the zone's name, to the minute."""
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M} {timezone.get_current_timezone_name()}"
