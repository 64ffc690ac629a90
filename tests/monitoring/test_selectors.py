"""monitoring/selectors.py: the dashboard's numbers, each from one aggregate query, with texts
that reached their states through the services and the simulator."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from auth_tokens.errors import CredentialsRejected
from auth_tokens.services import get_access_token, refresh_now
from monitoring import selectors
from smsapp.models import Message
from smsapp.ratelimit import FleetRateLimiter
from tests.support.texts import (
    check_delivery_now,
    create_text,
    delivery_failed,
    failed_at_sending,
    scheduled_in,
    sent,
)

pytestmark = pytest.mark.django_db
Status = Message.Status
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")  # UTC+05:30: local hours start at :30 UTC


def _created_at(message: Message, when: datetime) -> Message:
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message


def _delivered(simulator, number: str, took: timedelta) -> Message:
    message = sent(number)
    simulator.advance_clock(10)  # past the simulator's delivery delay
    message = check_delivery_now(message)
    assert message.status == Status.DELIVERED
    Message.objects.filter(pk=message.pk).update(delivered_at=message.sent_at + took)
    return message


def test_texts_are_counted_in_the_viewers_local_hours_by_outcome(sms_settings, simulator):
    now = timezone.now()
    start = selectors.window_start(now, KOLKATA)
    hour = start + timedelta(hours=30)  # 30 local hours into the window: a local hour's start
    _created_at(sent(), hour + timedelta(minutes=5))
    _created_at(create_text(), hour + timedelta(minutes=55))
    _created_at(create_text(), hour + timedelta(minutes=65))  # the next local hour
    _created_at(create_text(), start - timedelta(minutes=1))  # before the window

    hours = selectors.hourly_outcomes(start=start, now=now, zone=KOLKATA)

    assert start.astimezone(KOLKATA).minute == 0
    assert start.minute == 30  # in UTC
    assert len(hours) in (168, 169)  # every hour, empty ones too
    by_start = {h.start: h for h in hours if h.total}
    assert list(by_start) == [hour, hour + timedelta(hours=1)]
    assert by_start[hour].counts == {
        "delivered": 0,
        "sent": 1,
        "failed": 0,
        "canceled": 0,
        "waiting": 1,
    }
    assert by_start[hour + timedelta(hours=1)].total == 1


def test_each_chart_is_one_query(sms_settings, simulator, django_assert_num_queries):
    now = timezone.now()
    start = selectors.window_start(now, KOLKATA)
    for _ in range(3):
        create_text()
    with django_assert_num_queries(1):
        selectors.hourly_outcomes(start=start, now=now, zone=KOLKATA)
    with django_assert_num_queries(1):
        selectors.top_failure_reasons(start=start)
    with django_assert_num_queries(1):
        selectors.token_timeline(start=start, zone=KOLKATA)
    with django_assert_num_queries(2):  # the counts, and the oldest due text
        selectors.queue_state(now=now)


def test_delivery_rate_and_the_median_delivery_time(sms_settings, simulator):
    for number, seconds in (("+16505550111", 10), ("+16505550112", 20), ("+16505550113", 90)):
        _delivered(simulator, number, timedelta(seconds=seconds))
    delivery_failed(simulator, "+16505550114", "SMS-RC-413")
    sent("+16505550115")

    summary = selectors.delivery_summary(start=timezone.now() - timedelta(days=7))

    assert (summary.total, summary.delivered, summary.failed, summary.sent) == (5, 3, 1, 1)
    assert summary.rate == 0.75
    assert summary.median_delivery == timedelta(seconds=20)


def test_no_delivered_text_has_no_median_and_no_rate(sms_settings, simulator):
    create_text()

    summary = selectors.delivery_summary(start=timezone.now() - timedelta(days=7))

    assert summary.median_delivery is None
    assert summary.rate is None


def test_top_failure_reasons_by_count_with_their_class(sms_settings, simulator):
    delivery_failed(simulator, "+16505550121", "SMS-RC-413")
    delivery_failed(simulator, "+16505550122", "SMS-RC-413")
    delivery_failed(simulator, "+16505550123", "SMS-UP-414")
    failed_at_sending(sms_settings, "+16505550124")

    reasons = selectors.top_failure_reasons(start=timezone.now() - timedelta(days=7))

    assert [(r.code, r.count) for r in reasons][:1] == [("SMS-RC-413", 2)]
    classes = {r.code: r.reason_class for r in reasons}
    assert classes["SMS-RC-413"] == "permanent"
    assert classes["SMS-UP-414"] == "operator action"
    assert "opted out" in reasons[0].reason
    assert reasons[0].share == 0.5
    assert sum(r.count for r in reasons) == 4


def test_token_events_on_the_timeline_by_hour_and_kind(rc_settings, simulator):
    get_access_token()
    refresh_now()
    refresh_now()
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        refresh_now(login=True)

    marks = selectors.token_timeline(start=timezone.now() - timedelta(days=7), zone=UTC)

    assert {(m.kind, m.count, m.codes) for m in marks} == {
        ("logged_in", 1, ""),
        ("refreshed", 2, ""),
        ("blocked", 1, "OAU-140"),
    }


def test_the_queue_counts_and_its_oldest_due_text(sms_settings, simulator):
    now = timezone.now()
    queued = _created_at(create_text(), now - timedelta(minutes=3))
    scheduled_in(3600)  # not due: not waiting yet
    overdue = scheduled_in(3600)
    Message.objects.filter(pk=overdue.pk).update(send_at=now - timedelta(minutes=8))

    queue = selectors.queue_state(now=now)

    assert queue.counts == {"scheduled": 2, "queued": 1, "sending": 0, "uncertain": 0}
    assert queue.oldest_age(now) == timedelta(minutes=8)
    Message.objects.filter(pk=overdue.pk).update(status=Status.CANCELED)
    queued.refresh_from_db()
    assert selectors.queue_state(now=now).oldest_due == queued.created_at


def test_the_limiter_shows_a_pause_after_a_429(sms_settings):
    FleetRateLimiter("Medium", 40).pause(30)

    state = selectors.limiter_state()

    medium, light = state.groups
    assert medium.group == "Medium"
    assert 25 < medium.paused_for <= 30
    assert medium.per_minute == 40
    assert light.paused_for == 0


def test_the_limiter_says_when_redis_does_not_answer(sms_settings):
    sms_settings.REDIS_URL = "redis://127.0.0.1:1/0"

    state = selectors.limiter_state()

    assert state.groups == []
    assert state.error.startswith("Redis does not answer")
