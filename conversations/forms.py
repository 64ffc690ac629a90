"""The reply box: the words only; the recipient is the conversation's."""

from __future__ import annotations

from typing import Any

from django import forms

from smsapp.services.messages import new_submission_key
from smsapp.validation import validate_submission_key, validate_text


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Reply",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        strip=False,
        error_messages={"required": "Write the reply before sending it."},
        validators=[validate_text],
    )
    # One submission, one text: a double click or a retried POST sends the reply once.
    submission_key = forms.CharField(
        widget=forms.HiddenInput, validators=[validate_submission_key], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", new_submission_key())
        elif not self.data.get("submission_key"):
            # A client without the hidden field (a script): a key of its own, as Compose does.
            self.renew_submission_key()

    def renew_submission_key(self) -> None:
        data = self.data.copy()
        data["submission_key"] = new_submission_key()
        self.data = data
