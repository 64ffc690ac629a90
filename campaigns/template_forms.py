"""Validation only: a template's name and text, with campaigns.services.templates' rules."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.models import Template
from campaigns.services.templates import (
    NAME_MAX_LENGTH,
    NO_NAME,
    validate_template_name,
    validate_template_text,
)
from smsapp.segments import MAX_TEXT_UNITS
from smsapp.validation import NO_TEXT


class TemplateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        error_messages={"required": NO_NAME},
        # The limit in the browser too; the service's own words if it is passed anyway.
        widget=forms.TextInput(attrs={"maxlength": NAME_MAX_LENGTH, "autocomplete": "off"}),
        help_text="What people pick it by on Compose and for bulk sends.",
    )
    text = forms.CharField(
        label="Text",
        strip=False,
        error_messages={"required": NO_TEXT},
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=(
            "Write {first_name} where a bulk send puts each line's value from the CSV's "
            "“First name” column; {{ and }} write a brace itself. "
            f"At most {MAX_TEXT_UNITS} characters."
        ),
    )

    def __init__(self, *args: Any, template: Template | None = None, **kwargs: Any) -> None:
        # The template being changed: its own name is not "taken".
        self.template = template
        if template is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": template.name, "text": template.text}
        super().__init__(*args, **kwargs)

    # The service checks all of this again (it decides); checked here too so that each error
    # shows beside its field, together with the others.
    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        validate_template_name(name, exclude=self.template)
        return name

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        validate_template_text(text)
        return text
