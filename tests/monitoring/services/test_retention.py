"""monitoring/services/retention.py: token events older than 90 days go, newer ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from auth_tokens.models import TokenEvent
from auth_tokens.services import get_access_token, refresh_now
from monitoring.services.retention import token_events_prune

pytestmark = pytest.mark.django_db


def test_events_past_the_retention_are_deleted_and_the_rest_kept(rc_settings, simulator):
    get_access_token()
    refresh_now()
    old, recent = TokenEvent.objects.order_by("at", "id")
    now = timezone.now()
    TokenEvent.objects.filter(pk=old.pk).update(at=now - timedelta(days=90, seconds=1))
    TokenEvent.objects.filter(pk=recent.pk).update(at=now - timedelta(days=89))

    assert token_events_prune(now=now) == 1

    assert list(TokenEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert token_events_prune(now=now) == 0
