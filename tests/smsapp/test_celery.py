"""smsapp/celery.py: the Celery app is configured from Django settings (JSON only, late acks,
one task at a time). Its worker and beat starting for real: tests/end_to_end/test_celery_app.py."""

from __future__ import annotations

from django.conf import settings

from smsapp import celery_app


def test_app_is_json_only_and_configured_from_django_settings():
    conf = celery_app.conf

    assert conf.broker_url == settings.CELERY_BROKER_URL
    assert conf.broker_url.endswith("/15")
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 3600
