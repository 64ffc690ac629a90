"""One OS process of a token race: `python -m harness.race_worker MODE`.

It sets Django up from the environment (DATABASE_URL, RINGCENTRAL_*), says "ready", waits for
"go" on stdin so that every process starts at the same moment, runs MODE, and prints one JSON
line. Used by tests/end_to_end/test_token_race.py and by bench/token_bench.py.

Modes:
  prime   log in once, then mark the access token expired locally (the race's starting point)
  get     get_access_token(): the real, locked path
  naive   what an unlocked client does: read the row, refresh with its token, save
  api     an authorized API call (GET phone-number) through ringcentral_request
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta

# The callers always set it (harness.race.worker_env); by hand it is the app's own settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsapp.settings")

import django  # after choosing the settings module

django.setup()

from django.utils import timezone  # noqa: E402

from auth_tokens import client, crypto  # noqa: E402
from auth_tokens.api import ringcentral_request  # noqa: E402
from auth_tokens.credentials import Credentials  # noqa: E402
from auth_tokens.models import RingCentralToken  # noqa: E402
from auth_tokens.services import get_access_token  # noqa: E402


def expire_locally() -> None:
    RingCentralToken.objects.update(access_expires_at=timezone.now() - timedelta(seconds=1))


def naive_refresh() -> str:
    """The bug this project exists to prevent: no lock, no re-check, a shared refresh token."""
    creds = Credentials.from_settings()
    row = RingCentralToken.objects.get(credential_key=creds.key)
    answer = client.refresh(creds, crypto.decrypt(row.refresh_token_encrypted) or "")
    row.access_token_encrypted = crypto.encrypt(answer.access_token)
    row.refresh_token_encrypted = crypto.encrypt(answer.refresh_token or "")
    row.access_expires_at = timezone.now() + timedelta(seconds=answer.expires_in)
    row.save()
    return answer.access_token


def run(mode: str) -> dict:
    if mode == "prime":
        get_access_token()
        expire_locally()
        return {"ok": True}
    if mode == "get":
        token = get_access_token()
        return {"ok": True, "token": crypto.fingerprint(token.value), "version": token.version}
    if mode == "naive":
        return {"ok": True, "token": crypto.fingerprint(naive_refresh())}
    if mode == "api":
        response = ringcentral_request("GET", "/restapi/v1.0/account/~/extension/~/phone-number")
        return {"ok": response.status_code == 200, "status": response.status_code}
    raise SystemExit(f"unknown mode {mode!r}")


def main() -> None:
    mode = sys.argv[1]
    if mode == "api":
        get_access_token()  # warm: every process holds the same token before "go"
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go")
    started = time.perf_counter()
    try:
        result = run(mode)
    except Exception as exc:  # reported to the parent, which asserts on it
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["seconds"] = time.perf_counter() - started
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
