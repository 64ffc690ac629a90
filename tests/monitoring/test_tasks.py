"""monitoring/tasks.py through a real Celery worker: the simulator's password changes, a text
makes the worker log in and get blocked, and the alerts task emails the admins once, whatever
how often it runs."""

from __future__ import annotations

import pytest

from auth_tokens.models import RingCentralToken, TokenEvent
from auth_tokens.services import get_access_token
from monitoring.models import AlertState
from monitoring.tasks import check_alerts
from ringcentral_sim.config import default_user
from tests.support.processes import process_env, running, start_worker, wait_until
from tests.support.texts import create_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def _emails(folder) -> list[str]:
    return [path.read_text() for path in sorted(folder.glob("*.log"))] if folder.exists() else []


def test_a_blocked_login_in_a_worker_is_emailed_once(sms_settings, simulator, tmp_path):
    get_access_token()  # a working session first, as in a running deployment
    simulator.configure(users=[{**default_user(), "password": "changed-at-ringcentral"}])
    simulator.revoke_all()  # the session ends: the next renewal must log in
    outbox = tmp_path / "mail"
    env = process_env(sms_settings) | {
        "ADMINS": "Ops <ops@example.com>",
        "EMAIL_URL": f"filemail://{outbox}",
    }

    with running(start_worker(env, tmp_path)) as (worker,):
        text = create_text()
        wait_until(
            lambda: RingCentralToken.objects.filter(blocked=True).exists(),
            30,
            "the worker's login to be rejected",
        )
        for _ in range(3):  # three checks, as beat's minutes (or two hosts' beats) would run
            check_alerts.delay()
        wait_until(
            lambda: worker.output().count("alerts emailed:") == 3, 30, "the three checks to run"
        )

    [email] = _emails(outbox)
    assert "To: ops@example.com" in email
    assert "RingCentral logins are blocked (OAU-140)" in email
    assert "RINGCENTRAL_PASSWORD" in email
    assert "changed-at-ringcentral" not in email
    assert sms_settings.RINGCENTRAL_PASSWORD not in email
    assert AlertState.objects.get().sent_count == 1
    kinds = list(TokenEvent.objects.order_by("at", "id").values_list("kind", flat=True))
    assert kinds[-2:] == [TokenEvent.Kind.REFRESH_REFUSED, TokenEvent.Kind.BLOCKED]
    text.refresh_from_db()
    assert text.status == text.Status.QUEUED  # held for a person, not failed
