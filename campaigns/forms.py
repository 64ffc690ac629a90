"""Bulk send forms: validation only (services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from campaigns.models import Template

# Bytes: a 10,000-line CSV of names and numbers is well under 2 MB; anything far bigger is the
# wrong file, refused before it is read.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        error_messages={"required": "Choose the CSV file with the numbers."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    template = forms.ModelChoiceField(
        queryset=Template.objects.order_by("name"),
        required=False,
        empty_label="(none: write the text below)",
        label="Start from a template",
    )
    text = forms.CharField(
        label="Text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Use the file's columns as {placeholders}, e.g. “Hi {first_name}, …”.",
    )
    phone_column = forms.CharField(
        label="Phone number column (optional)",
        required=False,
        help_text="Left empty, it is found by itself: a column named phone, mobile, number… or "
        "one that holds phone numbers.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "The first line names the columns. UTF-8 (Excel: “CSV UTF-8”), commas or "
            f"semicolons; at most {settings.SMS_MAX_BULK_RECIPIENTS:,} lines."
        )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.0f} MB: at most {MAX_UPLOAD_BYTES // 10**6} MB."
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("text") or "").strip() and cleaned.get("template"):
            cleaned["text"] = cleaned["template"].text
        return cleaned


class PhoneColumnForm(forms.Form):
    phone_column = forms.ChoiceField(label="Numbers are in the column")

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone_column"].choices = [(c, c) for c in columns]


class ConfirmForm(forms.Form):
    send_at = forms.DateTimeField(
        label="Send at (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to start now.",
    )
