"""smsapp/models.py: each status says, once, whether it is final and what a person may do."""

from __future__ import annotations

import pytest

from smsapp.models import Message

Status = Message.Status


@pytest.mark.parametrize(
    ("status", "terminal", "can_cancel", "can_retry"),
    [
        (Status.SCHEDULED, False, True, False),
        (Status.QUEUED, False, False, False),
        (Status.SENDING, False, False, False),
        (Status.UNCERTAIN, False, False, False),
        (Status.SENT, False, False, False),
        (Status.DELIVERED, True, False, False),
        (Status.FAILED, True, False, True),
        (Status.CANCELED, True, False, False),
    ],
)
def test_each_status_says_whether_it_is_final_and_what_a_person_may_do(
    status, terminal, can_cancel, can_retry
):
    message = Message(status=status)
    assert (message.terminal, message.can_cancel, message.can_retry) == (
        terminal,
        can_cancel,
        can_retry,
    )
