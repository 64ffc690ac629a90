"""Validation only: recipients, text length and segments, send-at. Used by the web form and
the send_sms command alike."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings

from smsapp.middleware import known_zones
from smsapp.models import Message
from smsapp.phones import parse_recipients
from smsapp.segments import MAX_TEXT_UNITS, segment_info, utf16_units, visible_characters
from smsapp.services.messages import (
    new_submission_key,
    recipients_limit_error,
    send_at_error,
    submission_key_error,
)

# Room for one number as people type them ("+1 (650) 555-0101, " is 19 characters), twice
# over. Bounds the raw list before it is parsed: libphonenumber costs about 30 µs a number,
# and an unbounded paste would tie up a web worker.
CHARS_PER_RECIPIENT = 40
# The compose page's preview counts segments of texts longer than the limit too ("too long"),
# but nothing longer than this is worth counting.
MAX_PREVIEW_TEXT_CHARS = 10 * MAX_TEXT_UNITS


def recipients_input_limit() -> int:
    return settings.SMS_MAX_RECIPIENTS * CHARS_PER_RECIPIENT


def recipients_input_error(raw: str) -> str | None:
    """Why the raw recipient list is too long even to read, or None."""
    limit = recipients_input_limit()
    if len(raw) <= limit:
        return None
    return (
        f"The recipient list is {len(raw):,} characters long, more than {limit:,}: one send goes "
        f"to at most {settings.SMS_MAX_RECIPIENTS} recipients (SMS_MAX_RECIPIENTS). "
        "Split the list into several sends."
    )


@dataclass(frozen=True)
class SendSummary:
    """What a send will cost, shown before a large one goes out."""

    numbers: list[str]
    segments_each: int
    send_at: datetime | None

    @property
    def count(self) -> int:
        return len(self.numbers)

    @property
    def segments_total(self) -> int:
        return self.count * self.segments_each


class ComposeForm(forms.Form):
    to = forms.CharField(
        label="To",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    text = forms.CharField(
        label="Message",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="At most 1000 characters.",
    )
    send_at = forms.DateTimeField(
        label="Send at (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # The recipient count the sender confirmed on the confirmation page. A count, not a yes:
    # a confirmation given for another list (edited since) asks again.
    confirmed = forms.CharField(required=False, widget=forms.HiddenInput)
    # One key per rendered form (the idempotency key, see message_submit): the same form sent
    # twice (a double click, a POST the browser retried, Confirm pressed twice) sends once.
    submission_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._key_problem: str | None = None
        if not self.is_bound:
            self.initial["submission_key"] = new_submission_key()
        else:
            posted = self.data.get("submission_key") or ""
            if not posted:
                # A client without the hidden field (a script, an old page): this post gets a
                # key of its own, so it works as before, without the protection.
                self.renew_submission_key()
            elif problem := submission_key_error(posted):
                # Refused, and the form shown again carries a good key, so the next Send works.
                self._key_problem = problem
                self.renew_submission_key()
        # The limits are settings: say them where people type.
        self.fields["to"].help_text = (
            "One or more phone numbers, separated by commas, spaces or new lines; "
            f"at most {settings.SMS_MAX_RECIPIENTS}."
        )
        days = settings.SMS_MAX_SCHEDULE_DAYS
        self.fields["send_at"].help_text = f"Leave empty to send now; at most {days} days ahead."

    def clean_to(self) -> list[str]:
        raw: str = self.cleaned_data["to"]
        if too_long := recipients_input_error(raw):
            raise forms.ValidationError(too_long)  # before parsing: that is the cost bounded
        numbers, invalid = parse_recipients(raw, settings.SMS_DEFAULT_REGION)
        if invalid:
            shown = ", ".join(f"“{entry}”" for entry in invalid[:10])
            more = f" and {len(invalid) - 10} more" if len(invalid) > 10 else ""
            raise forms.ValidationError(
                f"Not a valid phone number: {shown}{more}. Use the full number, "
                "e.g. +1 650 555 0123."
            )
        if not numbers:
            raise forms.ValidationError("Give at least one phone number.")
        if too_many := recipients_limit_error(len(numbers)):
            raise forms.ValidationError(too_many)
        return numbers

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("Write a message.")
        units = utf16_units(text)
        if units > MAX_TEXT_UNITS:
            # Both counts: the limit is RingCentral's (UTF-16 units), but people count what
            # they see, and "1001 characters" for 1000 visible ones reads as a miscount.
            seen = visible_characters(text)
            raise forms.ValidationError(
                f"The message is {units} characters long as RingCentral counts them "
                f"({seen} as you see them: emoji and some symbols count as two); the limit is "
                f"{MAX_TEXT_UNITS}."
            )
        return text

    def clean_send_at(self) -> datetime | None:
        # A bare "2026-12-01T09:15" was read in the current zone: the person's (their setting,
        # else their browser's; smsapp.middleware), which the error names too.
        send_at: datetime | None = self.cleaned_data.get("send_at")
        if send_at is not None and (problem := send_at_error(send_at)):
            raise forms.ValidationError(problem)
        return send_at

    def clean_submission_key(self) -> str:
        if self._key_problem:
            raise forms.ValidationError(self._key_problem)
        return self.cleaned_data["submission_key"]

    def renew_submission_key(self) -> None:
        """Give the form a fresh key: the next Send is a new submission."""
        self.data = self.data.copy()
        self.data["submission_key"] = new_submission_key()

    def summary(self) -> SendSummary:
        """Only for a valid form."""
        return SendSummary(
            numbers=self.cleaned_data["to"],
            segments_each=segment_info(self.cleaned_data["text"]).segments,
            send_at=self.cleaned_data["send_at"],
        )

    @property
    def needs_confirmation(self) -> bool:
        """Only for a valid form: a large send is confirmed, for exactly this many recipients."""
        count = len(self.cleaned_data["to"])
        confirmed = self.cleaned_data.get("confirmed") == str(count)
        return count > settings.SMS_CONFIRM_RECIPIENTS_ABOVE and not confirmed


class HistoryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Message.Status.choices]
    )
    day_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    day_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    recipient = forms.CharField(label="Recipient", required=False, max_length=20)


# The zones offered on "Your settings": the current names under the continents and oceans
# (zoneinfo also keeps old aliases such as "US/Eastern" and "Asia/Calcutta", which would list
# most places twice), grouped by region, plus UTC.
ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
BROWSER_ZONE = ""  # the choice "use my browser's time zone"


def zone_choices() -> list[tuple[str, Any]]:
    by_region: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in sorted(known_zones()):
        region, _, place = name.partition("/")
        if region in ZONE_REGIONS and place:
            by_region[region].append((name, place.replace("_", " ")))
    return [
        (BROWSER_ZONE, "Use my browser's time zone"),
        ("UTC", "UTC"),
        *((region, by_region[region]) for region in ZONE_REGIONS if by_region[region]),
    ]


class UserSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        choices=zone_choices,
        help_text=(
            "Times on every page, and the time you type in “Send at”, are in this zone. "
            "Pick one if your computer's clock is set to another zone than the one you work in."
        ),
    )
