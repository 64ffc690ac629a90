"""Fixtures for the simulator's own tests."""

from __future__ import annotations

import pytest

from ringcentral_sim import SimulatorControl
from tests.ringcentral_sim.rc_http import RcHttp


@pytest.fixture
def rc(simulator: SimulatorControl) -> RcHttp:
    return RcHttp(simulator.url)


@pytest.fixture
def access_token(rc: RcHttp) -> str:
    return rc.login_tokens()["access_token"]
