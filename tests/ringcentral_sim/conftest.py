"""Fixtures for the simulator's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringcentral_sim import SimulatorControl
from tests.ringcentral_sim.rc_http import RcHttp
from tests.ringcentral_sim.webhook_receiver import WebhookReceiver


@pytest.fixture
def rc(simulator: SimulatorControl) -> RcHttp:
    return RcHttp(simulator.url)


@pytest.fixture
def access_token(rc: RcHttp) -> str:
    return rc.login_tokens()["access_token"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A local webhook that echoes the validation token and records every request."""
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()
