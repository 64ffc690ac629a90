"""Validation only: a recurring send's recipients, text and rule, with the services' rules."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from campaigns.models import Template
from recurring import rules
from recurring.models import RecurringSend
from recurring.services.sends import NAME_MAX_LENGTH, NO_NAME, RecurringFields, validate_fields
from smsapp.forms import BROWSER_ZONE, zone_choices
from smsapp.phones import parse_recipients
from smsapp.segments import MAX_TEXT_UNITS
from smsapp.validation import NO_RECIPIENTS, validate_recipients, validate_recipients_input

WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(rules.DAY_NAMES)]


def _rule_zone_choices() -> list[tuple[str, Any]]:
    # A rule's zone is a place, never "whatever the browser says".
    return [choice for choice in zone_choices() if choice[0] != BROWSER_ZONE]


class RecurringSendForm(forms.Form):
    name = forms.CharField(
        label="Name",
        error_messages={"required": NO_NAME},
        widget=forms.TextInput(attrs={"maxlength": NAME_MAX_LENGTH, "autocomplete": "off"}),
        help_text="What it is for, as the list shows it: “On-call reminder”.",
    )
    to = forms.CharField(
        label="To",
        error_messages={"required": NO_RECIPIENTS},
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )
    template = forms.ModelChoiceField(
        queryset=Template.objects.order_by("name"),
        required=False,
        empty_label="(none: write the text below)",
        label="Start from a template",
        help_text="Its text is copied into Text when Text is empty; later changes to the "
        "template do not change this send.",
    )
    text = forms.CharField(
        label="Text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Sent as written each time; at most {MAX_TEXT_UNITS} characters.",
    )
    kind = forms.ChoiceField(
        label="Repeats",
        choices=RecurringSend.Kind.choices,
        widget=forms.RadioSelect,
        initial=rules.WEEKDAYS,
    )
    weekdays = forms.MultipleChoiceField(
        label="On (every week)",
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    month_day = forms.IntegerField(
        label="Day of the month (every month)",
        required=False,
        min_value=1,
        max_value=31,
        help_text="29, 30 or 31: the month's last day in shorter months.",
    )
    rrule = forms.CharField(
        label="RRULE",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="RFC 5545, e.g. FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1 (the first Monday). "
        "Daily at most; the time, start and end come from the fields below.",
    )
    time_of_day = forms.TimeField(
        label="Time",
        initial=time(9, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "Give the time of day it is sent, e.g. 09:00."},
        help_text="Local time in the zone below, kept across daylight saving.",
    )
    time_zone = forms.ChoiceField(label="Time zone", choices=_rule_zone_choices)
    starts_on = forms.DateField(
        label="Start date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Give the first day it may be sent."},
    )
    ends_on = forms.DateField(
        label="End date (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The last day it may be sent; empty: until it is paused.",
    )

    def __init__(self, *args: Any, zone_name: str = "UTC", today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].help_text = (
            "One or more phone numbers, separated by commas, spaces or new lines; "
            f"at most {settings.SMS_MAX_RECIPIENTS}."
        )
        self.fields["time_zone"].initial = zone_name
        self.fields["starts_on"].initial = today

    @classmethod
    def initial_for(cls, recurring: RecurringSend) -> dict[str, Any]:
        return {
            "name": recurring.name,
            "to": ", ".join(recurring.to_numbers),
            "template": recurring.template,
            "text": recurring.text,
            "kind": recurring.kind,
            "weekdays": [str(d) for d in recurring.weekdays],
            "month_day": recurring.month_day,
            "rrule": recurring.rrule,
            "time_of_day": recurring.time_of_day,
            "time_zone": recurring.time_zone,
            "starts_on": recurring.starts_on,
            "ends_on": recurring.ends_on,
        }

    def clean_to(self) -> list[str]:
        raw: str = self.cleaned_data["to"]
        validate_recipients_input(raw)
        numbers, invalid = parse_recipients(raw, settings.SMS_DEFAULT_REGION)
        validate_recipients(numbers, invalid=invalid)
        return numbers

    def clean_weekdays(self) -> list[int]:
        return sorted({int(day) for day in self.cleaned_data["weekdays"]})

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not (cleaned.get("text") or "").strip() and cleaned.get("template"):
            cleaned["text"] = cleaned["template"].text
            # Shown back in the field: what will be sent, to read before saving.
            self.data = self.data.copy()
            self.data["text"] = cleaned["text"]
        if self.errors:
            return cleaned
        # The services' rules (they decide again on save): each error beside its field.
        try:
            validate_fields(self.recurring_fields())
        except ValidationError as error:
            for field, problems in error.error_dict.items():
                self.add_error(field if field in self.fields else None, problems)
        return cleaned

    def recurring_fields(self) -> RecurringFields:
        """Only for a valid form."""
        data = self.cleaned_data
        return RecurringFields(
            name=data["name"],
            to_numbers=data["to"],
            text=data.get("text") or "",
            kind=data["kind"],
            weekdays=data.get("weekdays") or [],
            month_day=data.get("month_day"),
            rrule=data.get("rrule") or "",
            time_of_day=data["time_of_day"].replace(second=0, microsecond=0),
            time_zone=data["time_zone"],
            starts_on=data["starts_on"],
            ends_on=data.get("ends_on"),
            template=data.get("template"),
        )
