"""With real worker and beat processes: RingCentral going away shows on /healthz and the
banner within a minute, and clears once it is back."""

from __future__ import annotations

import socket
import time

import pytest
from django.urls import reverse

from ringcentral_sim import SimulatorServer
from ringcentral_sim import config as sim
from tests.support.processes import process_env, running, start_beat, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ringcentral_problem(client) -> bool:
    response = client.get(reverse("healthz"))
    keys = [p["key"] for p in response.json()["problems"]]
    return response.status_code == 503 and keys == ["ringcentral"]


def _all_clear(client) -> bool:
    response = client.get(reverse("healthz"))
    return response.status_code == 200 and response.json()["problems"] == []


@pytest.mark.timeout(240)
def test_a_stopped_ringcentral_shows_within_a_minute_and_clears_when_back(
    client, sms_settings, tmp_path, staff_senders, django_user_model
):
    port = _free_port()
    own = SimulatorServer(port=port).start()  # a RingCentral this test can stop and restart
    for name, value in sim.app_environment(own.url).items():
        setattr(sms_settings, name, value)
    sms_settings.SMS_PROBE_INTERVAL = 20.0  # the default: what "within a minute" rests on
    env = process_env(sms_settings)
    sender = django_user_model.objects.create_user("sam", password="a-long-test-password")
    sender.groups.add(staff_senders)
    try:
        with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
            wait_until(lambda: _all_clear(client), 60, "a healthy start")
            own.stop()
            stopped_at = time.monotonic()
            wait_until(lambda: _ringcentral_problem(client), 60, "/healthz to report the outage")
            noticed = time.monotonic() - stopped_at
            client.force_login(sender)
            assert "RingCentral cannot be reached" in client.get(reverse("smsapp:history")).text
            own = SimulatorServer(port=port).start()  # back
            back_at = time.monotonic()
            wait_until(lambda: _all_clear(client), 60, "/healthz to clear")
            cleared = time.monotonic() - back_at
            assert "cannot be reached" not in client.get(reverse("smsapp:history")).text
    finally:
        own.stop()  # the latest one: it was restarted
    print(f"\noutage noticed after {noticed:.1f} s, cleared {cleared:.1f} s after it was back")
    assert noticed <= 60
    assert cleared <= 60
