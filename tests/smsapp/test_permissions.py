"""smsapp/permissions.py: the "Staff senders" group a migration creates, with the one
permission the pages ask for."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from smsapp.permissions import STAFF_SENDERS_GROUP


@pytest.mark.django_db
def test_staff_senders_group_exists_with_the_send_permission():
    group = Group.objects.get(name=STAFF_SENDERS_GROUP)
    assert list(group.permissions.values_list("codename", flat=True)) == ["send_sms"]
