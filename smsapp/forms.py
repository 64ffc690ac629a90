"""Validation only: recipients, text length and segments, send-at. Used by the web form and
the send_sms command alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings

from smsapp.models import Message
from smsapp.phones import parse_recipients
from smsapp.segments import MAX_TEXT_UNITS, segment_info, utf16_units
from smsapp.services.messages import recipients_limit_error, send_at_error

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
            raise forms.ValidationError(
                f"The message is {units} characters long; the limit is {MAX_TEXT_UNITS} "
                "(emoji and some symbols count as two)."
            )
        return text

    def clean_send_at(self) -> datetime | None:
        send_at: datetime | None = self.cleaned_data.get("send_at")
        if send_at is not None and (problem := send_at_error(send_at)):
            raise forms.ValidationError(problem)
        return send_at

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
