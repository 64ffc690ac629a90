"""smsapp/backends/__init__.py: get_backend() picks the backend by alias or dotted path."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from smsapp.backends import get_backend
from smsapp.backends.console import ConsoleBackend
from smsapp.backends.ringcentral import RingCentralBackend


def test_aliases_and_dotted_paths_pick_the_backend(settings):
    settings.SMS_BACKEND = "ringcentral"
    assert isinstance(get_backend(), RingCentralBackend)
    assert isinstance(get_backend("smsapp.backends.console.ConsoleBackend"), ConsoleBackend)


def test_an_unknown_backend_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="SMS_BACKEND 'carrier-pigeon'"):
        get_backend("carrier-pigeon")
