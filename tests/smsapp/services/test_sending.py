"""smsapp/services/sending.py: one attempt against the simulator over HTTP (claim, call,
record), what each failure means for the text, and the store lookup of an uncertain one."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import ClassVar

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from ringcentral_sim.config import REAL_STORE_SETTINGS
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
from tests.support.texts import (
    age_uncertain_attempt,
    create_text,
    create_texts,
    events,
    make_due,
    queued_send_tasks,
    reconcile_after_settle,
    scheduled_in,
    send,
)

pytestmark = pytest.mark.django_db
Status = Message.Status
TO = "+16505550101"


# -- an attempt and its outcome ----------------------------------------------------------------


def test_a_send_records_sent_with_the_provider_id(sms_settings, simulator):
    [message] = create_texts("+16505550101")
    message = send(message)
    assert message.status == Status.SENT
    [stored] = simulator.messages()
    assert message.provider_message_id == str(stored["id"])
    assert message.attempts == 1
    assert events(message) == [Status.QUEUED, Status.SENDING, Status.SENT]


def test_a_redelivered_task_sends_nothing(sms_settings, simulator):
    [message] = create_texts("+16505550101")
    send(message)
    assert services.message_send(message_id=message.pk).startswith("skipped")
    assert simulator.counters()["sms_accepted"] == 1


def test_503s_are_retried_with_backoff_and_sent_once(sms_settings, simulator):
    simulator.inject_fault("error", group="Medium", count=2)
    [message] = create_texts("+16505550101")
    message = send(message)
    assert message.status == Status.QUEUED
    assert message.next_attempt_at > timezone.now()
    assert message.error_code == "MSG-290"
    assert services.message_send(message_id=message.pk).startswith("skipped")  # not due yet
    for _ in range(2):
        make_due(message)
        message = send(message)
    assert message.status == Status.SENT
    assert message.attempts == 3
    assert simulator.counters()["sms_accepted"] == 1


def test_transient_failures_end_in_failed_after_the_attempt_limit(sms_settings, simulator):
    simulator.configure(error_rate=1.0)
    [message] = create_texts("+16505550101")
    for _ in range(sms_settings.SMS_MAX_ATTEMPTS):
        make_due(message)
        message = send(message)
    assert message.status == Status.FAILED
    assert "after 4 attempts" in message.error_reason


def test_msg_242_fails_at_once_with_a_reason_staff_understand(sms_settings, simulator):
    sms_settings.SMS_FROM_NUMBER = "+16505550123"  # not the extension's number
    [message] = create_texts("+16505550101")
    message = send(message)
    assert message.status == Status.FAILED
    assert message.error_code == "MSG-242"
    assert "SMS_FROM_NUMBER" in message.error_reason
    assert message.attempts == 1


def test_a_429_pauses_the_whole_fleet_for_retry_after(sms_settings, simulator):
    simulator.inject_fault("error", group="Medium", status=429, retry_after=30)
    first, second = create_texts("+16505550101", "+16505550102")
    first = send(first)
    assert first.status == Status.QUEUED
    assert first.next_attempt_at >= timezone.now() + timedelta(seconds=29)
    assert first.attempts == 0  # not processed by RingCentral: no attempt used
    requests_before = simulator.counters()["requests"].get("Medium", 0)
    second = send(second)  # another worker: it must not call during the pause
    assert second.status == Status.QUEUED
    assert second.next_attempt_at >= timezone.now() + timedelta(seconds=28)
    assert simulator.counters()["requests"].get("Medium", 0) == requests_before


def test_the_fleet_follows_ringcentrals_limit_headers_instead_of_hitting_429(
    sms_settings, simulator
):
    simulator.configure(rate_limits={"Auth": 5, "Medium": 3, "Light": 50, "Heavy": 10})
    messages = create_texts(*[f"+1650555020{i}" for i in range(5)])
    statuses = [send(m).status for m in messages]
    assert statuses == [Status.SENT] * 3 + [Status.QUEUED] * 2
    assert simulator.counters()["rate_limited"] == {}  # held back, never throttled


def test_without_the_shared_rate_limiter_nothing_is_sent(sms_settings, simulator):
    sms_settings.REDIS_URL = "redis://127.0.0.1:6399/0"  # nothing listens there
    [message] = create_texts("+16505550101")
    message = send(message)
    assert message.status == Status.QUEUED
    assert "rate limiter unavailable" in message.error_reason
    assert simulator.counters()["sms_accepted"] == 0


def test_rejected_credentials_hold_the_text_then_fail_naming_the_login(sms_settings, simulator):
    sms_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    [message] = create_texts("+16505550101")
    message = send(message)
    assert message.status == Status.QUEUED
    assert message.held_since is not None
    assert "rejected the password" in message.error_reason
    Message.objects.filter(pk=message.pk).update(
        held_since=timezone.now() - timedelta(seconds=sms_settings.SMS_AUTH_HOLD_SECONDS + 1),
        next_attempt_at=timezone.now(),
    )
    message = send(message)
    assert message.status == Status.FAILED
    assert "RingCentral login" in message.error_reason
    assert simulator.url in message.error_reason
    assert simulator.counters()["token_requests"]["password"] == {"OAU-140": 1}


def test_a_held_text_goes_out_once_the_login_works_again(sms_settings, simulator):
    sms_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    [message] = create_texts("+16505550101")
    send(message)
    sms_settings.RINGCENTRAL_PASSWORD = "sim-password"
    make_due(message)
    message = send(message)
    assert message.status == Status.SENT
    assert message.held_since is None


@pytest.mark.django_db
def test_a_send_that_got_no_answer_says_why_in_its_timeline(sms_settings, simulator):
    simulator.inject_fault("drop", group="Medium")
    [message] = services.message_create(to_numbers=["+16505550101"], text="Hello")
    services.message_send(message_id=message.pk)
    [uncertain] = message.events.filter(status=Message.Status.UNCERTAIN)
    assert "RemoteDisconnected" in uncertain.description
    assert sms_settings.RINGCENTRAL_PASSWORD not in uncertain.description


# -- scheduled texts: the claim refuses a text before its time ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_claim_refuses_a_text_before_its_time_and_sends_nothing(
    default_dispatch_interval, sms_settings, simulator
):
    message = scheduled_in(3)
    services.messages_dispatch_due()
    redis.Redis.from_url(sms_settings.CELERY_BROKER_URL).delete("celery")
    # A countdown that ran out early (another host's clock): not sent, queued for its time.
    result = services.message_send(message_id=message.pk)
    assert result.startswith("early by")
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert simulator.counters()["sms_accepted"] == 0
    [task] = queued_send_tasks(sms_settings)
    assert task["eta"] is not None


@pytest.mark.django_db(transaction=True)
def test_once_its_time_has_come_the_text_is_sent(
    default_dispatch_interval, sms_settings, simulator
):
    message = scheduled_in(3)
    services.messages_dispatch_due()
    Message.objects.filter(pk=message.pk).update(
        send_at=timezone.now(), next_attempt_at=timezone.now()
    )
    assert services.message_send(message_id=message.pk).startswith("sent as")
    assert simulator.counters()["sms_accepted"] == 1


# -- what a failed attempt means: the error class's on_failure ---------------------------------


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
        message = send(create_text("+16505550101"))
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


# -- configuration errors: the decision in docs/exactly-once.md, "Waiting for a person" --------


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
    message = send(create_text("+16505550101"))
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


def test_an_unusable_server_url_holds_the_text_as_a_configuration_problem(
    client, sms_settings, simulator
):
    sms_settings.RINGCENTRAL_SERVER_URL = "not-a-url"
    message = send(create_text("+16505550101"))
    # It certainly did not leave: held, not "uncertain: it may have gone out".
    assert message.status == Status.QUEUED
    assert message.held_since is not None
    assert message.error_code == "CONFIG"
    assert "configuration problem" in message.error_reason
    assert "RINGCENTRAL_SERVER_URL" in message.error_reason
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert any("RINGCENTRAL_SERVER_URL" in p["detail"] for p in response.json()["problems"])
    assert simulator.counters()["sms_accepted"] == 0


# -- uncertain outcomes: looked up in the message store, never resent blindly ------------------


def test_a_dropped_connection_after_processing_produces_no_duplicate(sms_settings, simulator):
    simulator.inject_fault("drop", group="Medium")
    [message] = create_texts("+16505550101")
    message = send(message)
    assert message.status == Status.SENT
    [stored] = simulator.messages()
    assert message.provider_message_id == str(stored["id"])
    assert Status.UNCERTAIN in events(message)
    assert simulator.counters()["sms_duplicates"] == []


def test_a_dropped_connection_before_processing_is_sent_again_once(sms_settings, simulator):
    simulator.inject_fault("drop_before", group="Medium")
    [message] = create_texts("+16505550101")
    message = send(message)
    # Not in the store right away is not proof yet: it stays uncertain, nothing is resent.
    assert message.status == Status.UNCERTAIN
    assert services.messages_reconcile_stuck() == 0
    age_uncertain_attempt(message, sms_settings)
    assert services.messages_reconcile_stuck() == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED  # still not in the store: certain it did not arrive
    message = send(message)
    assert message.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 1


def test_a_read_timeout_after_processing_is_reconciled_not_resent(sms_settings, simulator):
    sms_settings.RINGCENTRAL_HTTP_TIMEOUT = 0.5
    simulator.inject_fault("delay_after", group="Medium", seconds=1.5)
    [message] = create_texts("+16505550101")
    message = send(message)
    assert message.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 1


def test_reconciling_never_takes_another_messages_record(sms_settings, simulator):
    # Two sends of the same words to the same number (two submissions).
    [first] = create_texts("+16505550101", text="Same words")
    [second] = create_texts("+16505550101", text="Same words")
    send(first)
    simulator.inject_fault("drop_before", group="Medium")
    send(second)
    second = reconcile_after_settle(second, sms_settings)
    # The store holds the first message's identical text: it must not count for the second.
    assert second.status == Status.QUEUED
    second = send(second)
    assert second.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 2


@pytest.mark.django_db
def test_a_dropped_send_recorded_without_plus_and_late_is_found_not_sent_again(
    sms_settings, simulator
):
    simulator.configure(**REAL_STORE_SETTINGS)
    simulator.inject_fault("drop", group="Medium")  # processed, then no answer
    [message] = create_texts()
    message = send(message)
    # The list lags: right after the attempt it is not there yet, and that is no proof.
    assert message.status == Status.UNCERTAIN
    time.sleep(REAL_STORE_SETTINGS["store_list_lag_seconds"])
    message = reconcile_after_settle(message, sms_settings)
    assert message.status == Status.SENT
    [stored] = simulator.messages()
    assert message.provider_message_id == str(stored["id"])
    assert simulator.counters()["sms_accepted"] == 1
