"""Form helpers for the smsapp pages.

{% load smsapp_forms %}
<form method="post" action="{% url 'smsapp:retry' message.pk %}" data-submit-once>
  {% csrf_token %}{% action_key_input %} ...

The view passes request.POST.get("action_key") to the service as `key` (message_retry): the
same form posted twice (a double click, a POST the browser repeats) acts once.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from smsapp.services.messages import new_submission_key

register = template.Library()

ACTION_KEY_FIELD = "action_key"


@register.simple_tag
def action_key_input() -> str:
    """A hidden field with a fresh idempotency key: one per rendered form."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', ACTION_KEY_FIELD, new_submission_key()
    )
