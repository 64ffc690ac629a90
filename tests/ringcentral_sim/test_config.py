"""ringcentral_sim/config.py: settings are checked by name and type; the real-store switches."""

from __future__ import annotations

import pytest

from ringcentral_sim.config import REAL_STORE_SETTINGS


def test_unknown_setting_is_refused_with_its_name(simulator):
    with pytest.raises(ValueError, match="unknown setting"):
        simulator.configure(acess_token_ttl=5)
    with pytest.raises(ValueError, match="access_token_ttl must be a int"):
        simulator.configure(access_token_ttl="soon")


def test_settings_refuse_a_bool_for_a_number_and_a_number_for_a_switch(simulator):
    with pytest.raises(ValueError, match="strict_store_dates must be a bool"):
        simulator.configure(strict_store_dates=1)
    with pytest.raises(ValueError, match="store_list_lag_seconds must be a float"):
        simulator.configure(store_list_lag_seconds=True)
    assert simulator.configure(store_list_lag_seconds=3)["store_list_lag_seconds"] == 3


def test_real_store_settings_switch_on_every_open_behaviour(simulator):
    simulator.configure(**REAL_STORE_SETTINGS)
    config = simulator.config()
    assert config["store_numbers_without_plus"] is True
    assert config["strict_store_dates"] is True
    assert config["store_list_lag_seconds"] >= 1
