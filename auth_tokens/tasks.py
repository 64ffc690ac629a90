"""Keep-alive: refresh ahead of expiry so an idle deployment never lets its refresh token lapse."""

from __future__ import annotations

import logging

from celery import shared_task

from auth_tokens.services import keep_alive

logger = logging.getLogger(__name__)


@shared_task(name="auth_tokens.keep_alive", ignore_result=True)
def keep_tokens_alive() -> str:
    return keep_alive()
