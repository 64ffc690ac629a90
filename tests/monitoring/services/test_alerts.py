"""monitoring/services/alerts.py: each condition emails the admins once, not again within the
hour, again after it, never when the condition is gone; two checkers at once send one email."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from auth_tokens.crypto import decrypt
from auth_tokens.errors import CredentialsRejected
from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token, keep_alive, log_in_again
from monitoring.models import AlertState
from monitoring.services import alerts
from monitoring.services.alerts import alerts_check
from smsapp.models import Message
from tests.support.concurrency import run_in_threads
from tests.support.texts import create_text

pytestmark = pytest.mark.django_db
SECRETS = ("sim-password", "not-the-password")


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


def _an_hour_passes(condition: str) -> None:
    # The claim compares with the database's clock: move the last email back, not the clock.
    AlertState.objects.filter(condition=condition).update(
        last_sent_at=timezone.now() - timedelta(hours=1, seconds=1)
    )


def _block_logins(rc_settings) -> None:
    """The simulator refuses the password: automatic logins block (a real OAU-140)."""
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        get_access_token()


def _no_secret_in(message) -> None:
    text = f"{message.subject}\n{message.body}"
    for secret in SECRETS:
        assert secret not in text
    for row in RingCentralToken.objects.all():
        for encrypted in (row.access_token_encrypted, row.refresh_token_encrypted):
            token = decrypt(encrypted)
            assert not token or token not in text


# -- automatic logins blocked ------------------------------------------------------------------


def test_blocked_logins_email_the_admins_once_with_the_fix(admins, rc_settings, simulator):
    _block_logins(rc_settings)

    assert alerts_check() == [alerts.LOGIN_BLOCKED]

    [email] = mail.outbox
    assert email.to == ["ops@example.com"]
    assert "RingCentral logins are blocked (OAU-140)" in email.subject
    assert "RINGCENTRAL_PASSWORD" in email.body  # the hint: what to fix
    assert "Log in again" in email.body
    _no_secret_in(email)


def test_a_second_check_within_the_hour_sends_nothing(admins, rc_settings, simulator):
    _block_logins(rc_settings)
    alerts_check()

    assert alerts_check() == []
    assert alerts_check() == []

    assert len(mail.outbox) == 1
    state = AlertState.objects.get(condition=alerts.LOGIN_BLOCKED)
    assert state.sent_count == 1


def test_after_an_hour_it_sends_again_while_the_condition_holds(admins, rc_settings, simulator):
    _block_logins(rc_settings)
    alerts_check()
    _an_hour_passes(alerts.LOGIN_BLOCKED)

    assert alerts_check() == [alerts.LOGIN_BLOCKED]

    assert len(mail.outbox) == 2


def test_a_cleared_block_sends_nothing(admins, rc_settings, simulator):
    _block_logins(rc_settings)
    rc_settings.RINGCENTRAL_PASSWORD = "sim-password"
    log_in_again()  # an admin fixed it

    assert alerts_check() == []
    assert mail.outbox == []


# -- refresh token close to expiry while renewals keep failing ---------------------------------


def _refresh_expires_in(hours: float) -> None:
    RingCentralToken.objects.update(
        refresh_expires_at=timezone.now() + timedelta(hours=hours),
        # Keep-alive renews at once (the access token is due), so the failures below are its.
        access_expires_at=timezone.now() + timedelta(seconds=5),
    )


def _keep_alive_fails(simulator, times: int) -> None:
    simulator.inject_fault("error", group="Auth", status=503, count=times, retry_after=0)
    for _ in range(times):
        assert keep_alive().startswith("not renewed")


def test_refresh_token_near_expiry_with_failing_keep_alive_emails_once(
    admins, rc_settings, simulator
):
    get_access_token()
    _refresh_expires_in(5)
    _keep_alive_fails(simulator, 2)

    assert alerts_check() == [alerts.REFRESH_EXPIRING]
    assert alerts_check() == []

    [email] = mail.outbox
    assert "refresh token expires in 4 h" in email.subject
    assert "keep failing" in email.subject
    assert "CMN-201" in email.body
    _no_secret_in(email)


def test_one_failure_is_not_yet_failing(admins, rc_settings, simulator):
    get_access_token()
    _refresh_expires_in(5)
    _keep_alive_fails(simulator, 1)

    assert alerts_check() == []


def test_a_far_refresh_expiry_sends_nothing_despite_failures(admins, rc_settings, simulator):
    get_access_token()
    _refresh_expires_in(48)
    RingCentralToken.objects.update(access_expires_at=timezone.now())
    _keep_alive_fails(simulator, 2)

    assert alerts_check() == []


def test_a_renewal_that_works_again_clears_the_condition(admins, rc_settings, simulator):
    get_access_token()
    _refresh_expires_in(5)
    _keep_alive_fails(simulator, 2)
    assert keep_alive().startswith("renewed")  # the fault is over: a fresh refresh token

    assert alerts_check() == []
    assert mail.outbox == []


# -- queued texts older than the threshold -----------------------------------------------------


def _queued_since(minutes: float) -> Message:
    message = create_text()
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )
    return message


def test_a_text_queued_longer_than_the_threshold_emails_once(admins, sms_settings):
    admins.ALERT_QUEUED_MINUTES = 5
    _queued_since(7)

    assert alerts_check() == [alerts.QUEUE_STALE]
    assert alerts_check() == []

    [email] = mail.outbox
    assert email.subject.endswith("Texts have waited 7 min to go out")
    assert "Queued: 1" in email.body
    # Why, in the health check's words: no worker is running in this test.
    assert "No Celery worker" in email.body


def test_a_text_younger_than_the_threshold_sends_nothing(admins, sms_settings):
    admins.ALERT_QUEUED_MINUTES = 5
    _queued_since(3)

    assert alerts_check() == []


def test_once_the_text_went_out_nothing_is_sent(admins, sms_settings):
    admins.ALERT_QUEUED_MINUTES = 5
    message = _queued_since(7)
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENT)

    assert alerts_check() == []


# -- claims, failures and configuration --------------------------------------------------------


def test_without_admins_nothing_is_sent_or_claimed(settings, sms_settings):
    settings.ADMINS = []
    settings.ALERT_QUEUED_MINUTES = 5
    _queued_since(7)

    assert alerts_check() == []

    state = AlertState.objects.get(condition=alerts.QUEUE_STALE)
    assert state.last_seen_at is not None  # seen, for the dashboard
    assert state.last_sent_at is None  # sent as soon as ADMINS is set


def test_a_refused_email_gives_the_claim_back_for_the_next_check(admins, sms_settings):
    admins.ALERT_QUEUED_MINUTES = 5
    admins.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    admins.EMAIL_HOST, admins.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: refused
    _queued_since(7)

    assert alerts_check() == []

    state = AlertState.objects.get(condition=alerts.QUEUE_STALE)
    assert state.claimed_until is None
    assert state.last_sent_at is None
    admins.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts_check() == [alerts.QUEUE_STALE]


def test_a_checker_that_died_after_its_claim_holds_it_two_minutes_at_most(admins, sms_settings):
    admins.ALERT_QUEUED_MINUTES = 5
    _queued_since(7)
    # As a checker leaves it when killed between the claim and the email.
    AlertState.objects.create(
        condition=alerts.QUEUE_STALE, claimed_until=timezone.now() + timedelta(minutes=2)
    )
    assert alerts_check() == []

    AlertState.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert alerts_check() == [alerts.QUEUE_STALE]
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_checkers_at_once_send_one_email(admins, sms_settings):
    admins.ALERT_QUEUED_MINUTES = 5
    _queued_since(7)
    start = threading.Barrier(4)

    def check() -> list[str]:
        start.wait()
        return alerts_check()

    results, errors = run_in_threads(check, 4)

    assert errors == []

    assert sorted(results) == [[], [], [], [alerts.QUEUE_STALE]]
    assert len(mail.outbox) == 1
    assert AlertState.objects.get().sent_count == 1
