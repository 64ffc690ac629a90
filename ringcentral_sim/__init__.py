"""A RingCentral REST API simulator strict enough to catch token races, retry storms and dupes."""

from __future__ import annotations

from ringcentral_sim.config import SimConfig
from ringcentral_sim.control import SimulatorControl
from ringcentral_sim.server import SimulatorServer

__all__ = ["SimConfig", "SimulatorControl", "SimulatorServer"]
