"""Reading the staff pages as a person does: the words, and the error beside a field."""

from __future__ import annotations

import html
import re
import zoneinfo
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone


def page_text(response) -> str:
    """The page as words: tags dropped, entities decoded, spaces collapsed."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([.,])", r"\1", words)  # "IST </span>, your": no space before a comma


def field_errors(response, field: str) -> str:
    """The text of the error block next to a form field ("" if none)."""
    page = response.content.decode()
    marker = f'id="id_{field}_error"'
    if marker not in page:
        return ""
    start = page.index(marker)
    return html.unescape(page[start : page.index("</div>", start)])


def in_two_days(zone: zoneinfo.ZoneInfo) -> datetime:
    """A wall-clock time in `zone`, two days ahead, to the minute."""
    return (timezone.now() + timedelta(days=2)).astimezone(zone).replace(second=0, microsecond=0)


def compose_at(client, send_at: str, *, follow: bool = False):
    """Post the compose form (one number, "Hi") with `send_at` typed into "Send at" as the
    browser sends it ("2020-01-01T09:00")."""
    return client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": send_at},
        follow=follow,
    )


def schedule_at(client, local: datetime):
    """Post the compose form with `local` typed into "Send at" (minute precision)."""
    return compose_at(client, f"{local:%Y-%m-%dT%H:%M}", follow=True)
