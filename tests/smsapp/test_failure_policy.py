"""What a failed send means for the text is decided by the error's class (its `on_failure`),
and a configuration error waits for an admin without using attempts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

import pytest
from django.urls import reverse
from django.utils import timezone

from smsapp import services
from smsapp.backends.base import (
    AmbiguousSmsError,
    AuthWaitSmsError,
    BaseSmsBackend,
    ConfigurationSmsError,
    Delivery,
    OnFailure,
    OutgoingSms,
    PermanentSmsError,
    RateLimitedSmsError,
    SmsError,
    TransientSmsError,
)
from smsapp.models import Message
from smsapp.sending_health import sending_health

pytestmark = pytest.mark.django_db
Status = Message.Status


class FailingBackend(BaseSmsBackend):
    """Fails every send with `error`; its store never holds anything."""

    error: ClassVar[SmsError] = TransientSmsError("unset")

    def send(self, sms: OutgoingSms) -> str:
        raise self.error

    def find_sent(self, sms: OutgoingSms, since: datetime, until: datetime) -> list[str]:
        return []

    def delivery(self, provider_message_id: str) -> Delivery:
        return Delivery("pending")


class RefusedForGood(TransientSmsError):
    """A backend's own error that is transient by family but final by policy."""

    on_failure = OnFailure.FAIL


@pytest.fixture
def failing(settings):
    settings.SMS_BACKEND = f"{__name__}.FailingBackend"
    settings.SMS_FROM_NUMBER = "+16505550100"
    settings.SMS_MAX_ATTEMPTS = 4

    def send_failing_with(error: SmsError) -> Message:
        FailingBackend.error = error
        [message] = services.message_create(to_numbers=["+16505550101"], text="Hello")
        services.message_send(message_id=message.pk)
        message.refresh_from_db()
        return message

    return send_failing_with


def test_a_permanent_error_fails_the_text_at_once(failing):
    message = failing(PermanentSmsError("refused", code="MSG-242"))
    assert (message.status, message.attempts, message.error_code) == (Status.FAILED, 1, "MSG-242")


def test_a_transient_error_retries_later_and_counts_the_attempt(failing):
    message = failing(TransientSmsError("503", code="HTTP-503"))
    assert (message.status, message.attempts) == (Status.QUEUED, 1)
    assert message.next_attempt_at > timezone.now()
    assert message.held_since is None


def test_throttling_waits_retry_after_without_using_an_attempt(failing):
    # A TransientSmsError subclass: its own policy wins, whatever order anyone checks in.
    message = failing(RateLimitedSmsError("429", code="MSG-305", retry_after=30))
    assert (message.status, message.attempts) == (Status.QUEUED, 0)
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=29)
    assert message.held_since is None


def test_a_login_problem_holds_the_text_without_using_an_attempt(failing):
    message = failing(AuthWaitSmsError("RingCentral rejected the password"))
    assert (message.status, message.attempts, message.error_code) == (Status.QUEUED, 0, "AUTH")
    assert message.held_since is not None
    assert message.error_reason.startswith("Waiting for a working RingCentral login")


@pytest.mark.parametrize("error", [AmbiguousSmsError("dropped"), SmsError("who knows")])
def test_an_error_that_may_have_sent_it_is_looked_up_never_resent_blindly(failing, error):
    message = failing(error)
    assert (message.status, message.attempts) == (Status.UNCERTAIN, 1)


def test_the_policy_is_the_error_classs_not_its_family(failing):
    message = failing(RefusedForGood("gone for good", code="X-1"))
    assert (message.status, message.error_code) == (Status.FAILED, "X-1")


# -- configuration errors: the decision in docs/exactly-once.md, "Waiting for a person" ---------


def test_a_configuration_error_is_not_a_login_problem(failing):
    message = failing(ConfigurationSmsError("RINGCENTRAL_CLIENT_ID is not set"))
    assert (message.status, message.attempts, message.error_code) == (Status.QUEUED, 0, "CONFIG")
    assert message.held_since is not None
    assert message.error_reason == (
        "Waiting for an admin to fix the RingCentral settings: RINGCENTRAL_CLIENT_ID is not set"
    )


def test_missing_credentials_hold_texts_for_an_admin_then_fail_naming_the_setting(
    client, sms_settings, simulator
):
    sms_settings.RINGCENTRAL_CLIENT_ID = ""
    [message] = services.message_create(to_numbers=["+16505550101"], text="Hello")
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    # Waiting, not failed, no attempt used, nothing asked of RingCentral; the reason says who
    # must act and what to set.
    assert (message.status, message.attempts, message.error_code) == (Status.QUEUED, 0, "CONFIG")
    assert message.held_since is not None
    assert "an admin to fix the RingCentral settings" in message.error_reason
    assert "RINGCENTRAL_CLIENT_ID" in message.error_reason
    assert "login" not in message.error_reason
    assert simulator.counters()["token_requests"] == {}
    # Admins read the setting to fix on /healthz; staff read that texts wait for an admin.
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    problems = {p["key"]: p["detail"] for p in response.json()["problems"]}
    assert "RINGCENTRAL_CLIENT_ID" in problems["configuration"]
    assert "login" not in problems
    staff = sending_health().staff_summary
    assert "RingCentral settings are incomplete" in staff
    assert "sign in" not in staff
    # Not fixed within the hold time: it fails, and says what it waited for.
    Message.objects.filter(pk=message.pk).update(
        held_since=timezone.now() - timedelta(seconds=sms_settings.SMS_AUTH_HOLD_SECONDS + 1),
        next_attempt_at=timezone.now(),
    )
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (Status.FAILED, 0, "CONFIG")
    assert message.error_reason.startswith("Waited 60 min for an admin to fix the RingCentral")
    assert "RINGCENTRAL_CLIENT_ID" in message.error_reason


def test_a_text_held_for_the_settings_goes_out_once_they_are_fixed(sms_settings, simulator):
    client_id = sms_settings.RINGCENTRAL_CLIENT_ID
    sms_settings.RINGCENTRAL_CLIENT_ID = ""
    [message] = services.message_create(to_numbers=["+16505550101"], text="Hello")
    services.message_send(message_id=message.pk)
    sms_settings.RINGCENTRAL_CLIENT_ID = client_id
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.held_since) == (Status.SENT, 1, None)
    assert simulator.counters()["sms_accepted"] == 1
