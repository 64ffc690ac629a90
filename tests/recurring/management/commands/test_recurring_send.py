"""manage.py recurring_send: create (validated as the form is), list, pause and resume."""

from __future__ import annotations

import re

import pytest

from recurring.models import RecurringSend
from tests.recurring.conftest import NUMBERS
from tests.support.commands import assert_one_line_failure, run_command

pytestmark = pytest.mark.django_db

CREATE = (
    "recurring_send",
    "create",
    "--name",
    "Fridays",
    "--to",
    NUMBERS[0],
    "--to",
    NUMBERS[1],
    "--text",
    "Office closes at 5",
    "--every",
    "week",
    "--on",
    "FR",
    "--at",
    "16:30",
    "--zone",
    "Europe/London",
)


def test_create_prints_the_id_then_the_next_five_times_in_utc(recurring_settings):
    out, _, error = run_command(*CREATE)
    assert error is None
    lines = out.splitlines()
    recurring = RecurringSend.objects.get()
    assert lines[0] == str(recurring.pk)
    assert len(lines) == 6
    assert all(
        re.fullmatch(r"  \d{4}-\d\d-\d\dT\d\d:30:00Z  \(.* (GMT|BST)\)", line) for line in lines[1:]
    )
    assert (recurring.kind, recurring.weekdays, recurring.to_numbers) == (
        "weekly",
        [4],
        list(NUMBERS),
    )


def test_create_with_the_same_key_twice_makes_one(recurring_settings):
    first, _, _ = run_command(*CREATE, "--key", "cron-1")
    again, _, _ = run_command(*CREATE, "--key", "cron-1")
    assert first.splitlines()[0] == again.splitlines()[0]
    assert RecurringSend.objects.count() == 1


@pytest.mark.parametrize(
    ("extra", "parts"),
    [
        (("--zone", "Mars/Olympus"), ("--zone:",)),
        (("--at", "9am"), ("--at:",)),
        (("--on", "XX"), ("--on:", "not a day")),
        (("--every", "month"), ("--day:", "from 1 to 31")),
    ],
)
def test_bad_input_is_one_line_naming_the_option_and_nothing_is_saved(
    recurring_settings, extra, parts
):
    args = list(CREATE)
    for option, value in zip(extra[::2], extra[1::2], strict=True):
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    _, _, error = run_command(*args)
    assert_one_line_failure(error, *parts)
    assert not RecurringSend.objects.exists()


def test_list_pause_and_resume(recurring_settings):
    out, _, _ = run_command(*CREATE)
    pk = out.splitlines()[0]
    listed, _, _ = run_command("recurring_send", "list")
    assert listed.startswith(f"{pk}\tactive\t")
    assert "Every week on Fri at 16:30 Europe/London" in listed
    assert run_command("recurring_send", "pause", pk)[0].strip() == f"#{pk} paused"
    assert run_command("recurring_send", "pause", pk)[0].strip() == f"#{pk} paused (no change)"
    assert run_command("recurring_send", "resume", pk)[0].strip() == f"#{pk} active"
    _, _, error = run_command("recurring_send", "pause", "999")
    assert_one_line_failure(error, "No recurring send #999")
