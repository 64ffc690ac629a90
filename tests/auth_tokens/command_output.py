"""Reading what a command printed: its output and error, ringcentral_check's steps, no secrets."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError

from auth_tokens.crypto import decrypt
from auth_tokens.models import RingCentralToken
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim


def run(*args: str) -> tuple[str, CommandError | None]:
    """stdout and stderr of a command together, and its CommandError if it failed."""
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def assert_no_secrets(text: str) -> None:
    assert sim.DEFAULT_PASSWORD not in text
    assert sim.DEFAULT_CLIENT_SECRET not in text
    # Every simulator token starts so: this catches old tokens as well as the stored pair.
    assert "SIMAT-" not in text
    assert "SIMRT-" not in text
    for row in RingCentralToken.objects.all():
        for ciphertext in (row.access_token_encrypted, row.refresh_token_encrypted):
            if ciphertext:
                assert ciphertext not in text
                assert decrypt(ciphertext) not in text


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
