"""Validation only: recipients, text length and segments, send-at. Used by the web form and
the send_sms command alike; the rules and their words are smsapp.validation's, shared with the
service."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from smsapp.middleware import known_zones
from smsapp.models import Message
from smsapp.phones import parse_recipients
from smsapp.segments import MAX_TEXT_UNITS, segment_info
from smsapp.services.messages import new_submission_key
from smsapp.services.optouts import validate_not_opted_out
from smsapp.validation import (
    NO_RECIPIENTS,
    NO_TEXT,
    problem,
    validate_recipients,
    validate_recipients_input,
    validate_send_at,
    validate_submission_key,
    validate_text,
)

# The compose page's preview counts segments of texts longer than the limit too ("too long"),
# but nothing longer than this is worth counting.
MAX_PREVIEW_TEXT_CHARS = 10 * MAX_TEXT_UNITS


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
        error_messages={"required": NO_RECIPIENTS},
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    text = forms.CharField(
        label="Message",
        strip=False,
        error_messages={"required": NO_TEXT},
        # The counter (compose.js) reads the limit from the field: one number, MAX_TEXT_UNITS.
        widget=forms.Textarea(attrs={"rows": 6, "data-max-units": MAX_TEXT_UNITS}),
        help_text=f"At most {MAX_TEXT_UNITS} characters.",
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

    def __init__(
        self, *args: Any, text_checks: Sequence[Callable[[str], None]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Rules of where the text came from, beyond those of every send: a template's
        # {placeholders} must be replaced (the compose view passes campaigns' check).
        self._text_checks = tuple(text_checks)
        self._key_problem: str | None = None
        if not self.is_bound:
            self.initial["submission_key"] = new_submission_key()
        else:
            posted = self.data.get("submission_key") or ""
            if not posted:
                # A client without the hidden field (a script, an old page): this post gets a
                # key of its own, so it works as before, without the protection.
                self.renew_submission_key()
            elif refused := problem(validate_submission_key, posted):
                # Refused, and the form shown again carries a good key, so the next Send works.
                self._key_problem = refused
                self.renew_submission_key()
        # The limits are settings: say them where people type.
        self.fields["to"].help_text = (
            "One or more phone numbers, separated by commas, spaces or new lines; "
            f"at most {settings.SMS_MAX_RECIPIENTS}."
        )
        days = settings.SMS_MAX_SCHEDULE_DAYS
        self.fields["send_at"].help_text = f"Leave empty to send now; at most {days} days ahead."

    # The service checks all of this again (it is the final authority, whoever calls it);
    # checked here too so each error shows beside its field, together with the others.
    def clean_to(self) -> list[str]:
        raw: str = self.cleaned_data["to"]
        validate_recipients_input(raw)  # before parsing: that is the cost bounded
        numbers, invalid = parse_recipients(raw, settings.SMS_DEFAULT_REGION)
        validate_recipients(numbers, invalid=invalid)
        return numbers

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        validate_text(text)
        for check in self._text_checks:
            check(text)
        return text

    def clean_send_at(self) -> datetime | None:
        # A bare "2026-12-01T09:15" was read in the current zone: the person's (their setting,
        # else their browser's; smsapp.middleware), which the error names too.
        send_at: datetime | None = self.cleaned_data.get("send_at")
        if send_at is not None:
            validate_send_at(send_at)
        return send_at

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        # Anyone who opted out is named under "to", with what undoes it; the service refuses
        # them too. A database question, so asked only of an otherwise valid form: one query
        # per send, and the form's other rules stay checkable without a database.
        if not self.errors and cleaned.get("to"):
            try:
                validate_not_opted_out(our_number=settings.SMS_FROM_NUMBER, numbers=cleaned["to"])
            except ValidationError as error:
                self.add_error("to", error)
        return cleaned

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
