"""Fixtures for the service tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def default_dispatch_interval(sms_settings):
    """The dispatcher's default period (5 s: a horizon of 7.5 s) instead of sms_settings'
    quick one, for the tests of what falls due before its next run."""
    sms_settings.SMS_DISPATCH_INTERVAL = 5.0
    return sms_settings
