"""Redis or RabbitMQ as the Celery broker (docs/brokers.md): the options each one gets, and
REDIS_URL required apart from a RabbitMQ broker."""

from __future__ import annotations

import pytest

from smsapp import sending_health
from smsapp.celery import SmsCelery
from tests.smsapp.test_settings import config_error, print_setting
from tests.support.processes import run_manage

AMQP = "amqp://guest:guest@127.0.0.1:5672/smsapp"
CELERY_OPTIONS = (
    "{name: getattr(settings, 'CELERY_' + name, None) for name in ["
    "'TASK_DEFAULT_QUEUE_TYPE', 'WORKER_DETECT_QUORUM_QUEUES', 'TASK_DEFAULT_EXCHANGE_TYPE', "
    "'BROKER_TRANSPORT_OPTIONS', 'TASK_ACKS_LATE']} | {'REDIS_URL': settings.REDIS_URL}"
)


@pytest.mark.processes
def test_an_amqp_broker_without_redis_url_is_a_one_line_error(base_env):
    base_env.update(CELERY_BROKER_URL=AMQP)
    base_env.pop("REDIS_URL", None)

    line = config_error(run_manage("check", env=base_env), "REDIS_URL")

    assert "CELERY_BROKER_URL" in line
    assert "guest" not in line  # the broker URL, which may carry a password, is not echoed


@pytest.mark.processes
def test_an_amqp_broker_gets_quorum_queues_delayed_delivery_and_confirms(base_env):
    base_env.update(CELERY_BROKER_URL=AMQP, REDIS_URL="redis://127.0.0.1:6379/15")

    options = print_setting(base_env, CELERY_OPTIONS)

    assert options == {
        "TASK_DEFAULT_QUEUE_TYPE": "quorum",
        "WORKER_DETECT_QUORUM_QUEUES": True,
        # Native delayed delivery skips direct exchanges (the dispatcher's countdowns).
        "TASK_DEFAULT_EXCHANGE_TYPE": "topic",
        # Redis's visibility_timeout means nothing to RabbitMQ: not set, not checked.
        "BROKER_TRANSPORT_OPTIONS": {"confirm_publish": True},
        "TASK_ACKS_LATE": True,
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }


@pytest.mark.processes
def test_the_visibility_timeout_rule_does_not_apply_to_rabbitmq(base_env):
    # With Redis this pair is refused (smsapp.E004); RabbitMQ has no visibility timeout.
    base_env.update(
        CELERY_BROKER_URL=AMQP,
        REDIS_URL="redis://127.0.0.1:6379/15",
        CELERY_VISIBILITY_TIMEOUT="60",
        SMS_REDISPATCH_SECONDS="300",
    )

    result = run_manage("check", env=base_env)

    assert result.returncode == 0, result.stderr


@pytest.mark.processes
def test_a_redis_broker_keeps_its_visibility_timeout_and_shares_its_redis(base_env):
    base_env.update(CELERY_BROKER_URL="redis://127.0.0.1:6379/15")
    base_env.pop("REDIS_URL", None)

    options = print_setting(base_env, CELERY_OPTIONS)

    assert options["BROKER_TRANSPORT_OPTIONS"] == {"visibility_timeout": 3600.0}
    assert options["TASK_DEFAULT_QUEUE_TYPE"] is None
    assert options["REDIS_URL"] == "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize(
    ("queue_type", "countdown", "sent"),
    [("quorum", 0.4, 1), ("quorum", 2.2, 3), ("quorum", 3, 3), ("classic", 0.4, 0.4)],
)
def test_countdowns_are_whole_seconds_rounded_up_on_quorum_queues(
    queue_type, countdown, sent, monkeypatch
):
    # RabbitMQ's native delayed delivery counts whole seconds: Celery truncates a countdown
    # (early) and refuses one below a second. Redis keeps the countdown as it is.
    app = SmsCelery("countdowns", set_as_current=False)
    app.conf.task_default_queue_type = queue_type
    seen = {}
    monkeypatch.setattr(
        "celery.Celery.send_task",
        lambda self, name, args=None, kwargs=None, countdown=None, **options: seen.update(
            countdown=countdown
        ),
    )

    app.send_task("smsapp.send_message", args=[1], countdown=countdown)

    assert seen["countdown"] == sent


@pytest.mark.parametrize(
    ("url", "state"),
    [
        ("amqp://guest:guest@127.0.0.1:5672//", "ok"),
        ("amqp://guest:guest@127.0.0.1:1//", "error: OperationalError"),
        ("amqp://guest:wrong@127.0.0.1:5672//", "error: AccessRefused"),
    ],
)
def test_health_asks_rabbitmq_itself_when_it_is_the_broker(settings, url, state):
    settings.CELERY_BROKER_URL = url
    settings.BROKER_IS_RABBITMQ = True
    checks: dict = {}

    problems = sending_health._broker(checks)

    assert checks["broker"] == state
    assert bool(problems) == (state != "ok")
