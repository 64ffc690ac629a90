"""Who may send, for templates: {% staff_senders_group %} names the group that grants it.

A tag rather than a context processor: only the page that explains a refusal needs the name,
and a context processor would run on every page."""

from __future__ import annotations

from django import template

from smsapp.permissions import STAFF_SENDERS_GROUP

register = template.Library()


@register.simple_tag
def staff_senders_group() -> str:
    return STAFF_SENDERS_GROUP
