"""Running management commands in the test process and reading what they printed."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError

from auth_tokens.crypto import decrypt
from auth_tokens.models import RingCentralToken
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim


def run_command(*args: str) -> tuple[str, str, CommandError | None]:
    """stdout, stderr, and the CommandError if the command failed."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def run(*args: str) -> tuple[str, CommandError | None]:
    """stdout and stderr of a command together, as a terminal shows them, and its
    CommandError if it failed."""
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def assert_one_line_failure(error: CommandError | None, *parts: str) -> None:
    """The command failed with a one-line message that names each of `parts`."""
    assert error is not None, "the command should have failed"
    assert "\n" not in str(error)
    for part in parts:
        assert part in str(error)


def assert_no_secrets(text: str) -> None:
    assert sim.DEFAULT_PASSWORD not in text
    assert sim.DEFAULT_CLIENT_SECRET not in text
    # Every simulator token starts so: this catches old tokens as well as the stored pair.
    assert "SIMAT-" not in text
    assert "SIMRT-" not in text
    # An empty column (no token stored) is in every text: only stored tokens are looked for.
    stored = [
        ciphertext
        for row in RingCentralToken.objects.all()
        for ciphertext in (row.access_token_encrypted, row.refresh_token_encrypted)
        if ciphertext
    ]
    for ciphertext in stored:
        assert ciphertext not in text
        assert decrypt(ciphertext) not in text


def ringcentral_check(*args: str, expect: dict[int, str]) -> str:
    """ringcentral_check's output, once it is known that every step ended as `expect` says
    ({step: "ok" | "FAIL" | "skip"}), that the command failed exactly when a step failed,
    and that it printed no secret."""
    out, error = run("ringcentral_check", *args)
    assert outcomes(out) == expect, out
    assert (error is None) == ("FAIL" not in expect.values()), out
    assert_no_secrets(out)
    return out


def outcomes(out: str) -> dict[int, str]:
    """{step number: "ok" | "FAIL" | "skip"} from ringcentral_check's output."""
    found = re.findall(r"^\[(ok|FAIL|skip)\]\s+(\d)\. ", out, flags=re.MULTILINE)
    return {int(number): outcome for outcome, number in found}


def step_text(out: str, number: int) -> str:
    """A step's line with its fix and note lines."""
    match = re.search(rf"^\[\w+\]\s+{number}\. .*?(?=^\[|\Z)", out, re.MULTILINE | re.DOTALL)
    assert match, f"step {number} missing from:\n{out}"
    return match.group(0)


def token_requests(simulator: SimulatorControl) -> dict[str, dict[str, int]]:
    return simulator.counters()["token_requests"]
