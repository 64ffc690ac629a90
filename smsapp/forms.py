"""Validation only: recipients, text length and segments, send-at. Used by the web form and
the send_sms command alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from smsapp.models import Message
from smsapp.phones import parse_recipients
from smsapp.segments import MAX_TEXT_UNITS, utf16_units

# A send-at this close to now is "now" with extra steps; reject it so nobody is surprised.
MIN_SCHEDULE_AHEAD = timedelta(seconds=30)


class ComposeForm(forms.Form):
    to = forms.CharField(
        label="To",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="One or more phone numbers, separated by commas, spaces or new lines.",
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
        help_text="Leave empty to send now.",
    )

    def clean_to(self) -> list[str]:
        numbers, invalid = parse_recipients(self.cleaned_data["to"], settings.SMS_DEFAULT_REGION)
        if invalid:
            names = ", ".join(f"“{entry}”" for entry in invalid)
            raise forms.ValidationError(
                f"Not a valid phone number: {names}. Use the full number, e.g. +1 650 555 0123."
            )
        if not numbers:
            raise forms.ValidationError("Give at least one phone number.")
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
        if send_at is not None and send_at < timezone.now() + MIN_SCHEDULE_AHEAD:
            raise forms.ValidationError("Pick a time in the future, or leave it empty to send now.")
        return send_at


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
