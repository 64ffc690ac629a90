"""Fixtures: the app's RingCentral settings pointed at the simulator, which is strict."""

from __future__ import annotations

import pytest

from auth_tokens import services
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim


@pytest.fixture
def rc_settings(settings, simulator: SimulatorControl):
    """RINGCENTRAL_* settings for the simulator's default user, password grant."""
    # No grace: a reused refresh token fails at once, so a race cannot hide behind it.
    simulator.configure(refresh_grace_seconds=0)
    settings.RINGCENTRAL_SERVER_URL = simulator.url
    settings.RINGCENTRAL_CLIENT_ID = sim.DEFAULT_CLIENT_ID
    settings.RINGCENTRAL_CLIENT_SECRET = sim.DEFAULT_CLIENT_SECRET
    settings.RINGCENTRAL_USERNAME = sim.DEFAULT_USERNAME
    settings.RINGCENTRAL_EXTENSION = sim.DEFAULT_EXTENSION
    settings.RINGCENTRAL_PASSWORD = sim.DEFAULT_PASSWORD
    settings.RINGCENTRAL_JWT = ""
    settings.SMS_FROM_NUMBER = sim.DEFAULT_FROM_NUMBER
    settings.RINGCENTRAL_HTTP_TIMEOUT = 5.0
    services._plaintext_cache.clear()
    return settings
