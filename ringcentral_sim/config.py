"""Simulator settings: accepted credentials, token lifetimes, rate limits, delivery and faults."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Fake credentials for local runs and tests. They open nothing but this simulator.
DEFAULT_CLIENT_ID = "sim-client-id"
DEFAULT_CLIENT_SECRET = "sim-client-secret"
DEFAULT_USERNAME = "+16505550100"
DEFAULT_EXTENSION = "101"
DEFAULT_PASSWORD = "sim-password"
DEFAULT_JWT = "sim-jwt-credential"
DEFAULT_FROM_NUMBER = "+16505550100"

ALL_GRANTS = ["password", "jwt", "refresh_token"]


def app_environment(url: str) -> dict[str, str]:
    """The app's RINGCENTRAL_* settings (and sender) for talking to a simulator at `url` with
    its default user, password grant: for tests, benchmarks and local runs."""
    return {
        "RINGCENTRAL_SERVER_URL": url,
        "RINGCENTRAL_CLIENT_ID": DEFAULT_CLIENT_ID,
        "RINGCENTRAL_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "RINGCENTRAL_USERNAME": DEFAULT_USERNAME,
        "RINGCENTRAL_EXTENSION": DEFAULT_EXTENSION,
        "RINGCENTRAL_PASSWORD": DEFAULT_PASSWORD,
        "RINGCENTRAL_JWT": "",
        "SMS_FROM_NUMBER": DEFAULT_FROM_NUMBER,
    }


def default_client() -> dict[str, Any]:
    return {
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        # Which grants the app was registered for in the Developer Console; others get OAU-251.
        "grants": list(ALL_GRANTS),
        # "Issue refresh tokens" is an app setting; without it the answer has no refresh_token.
        "issue_refresh_tokens": True,
        # A sandbox app used against production (or the reverse) gets OAU-165.
        "environment": "production",
    }


def default_user() -> dict[str, Any]:
    return {
        "username": DEFAULT_USERNAME,
        "email": "staff@example.com",
        "extension": DEFAULT_EXTENSION,
        "password": DEFAULT_PASSWORD,
        "jwt": DEFAULT_JWT,
        "account_id": "400000001",
        "extension_id": "400000101",
        # "Enabled", "Disabled" (OAU-136) or "MfaRequired" (password grant: OAU-168).
        "state": "Enabled",
        "phone_numbers": [
            {
                "id": "500000001",
                "phoneNumber": DEFAULT_FROM_NUMBER,
                "features": ["SmsSender", "CallerId"],
                "status": "Normal",
                "usageType": "DirectNumber",
                "type": "VoiceFax",
            }
        ],
    }


@dataclass
class SimConfig:
    """Everything a test or a person may change at run time through `/_sim/config`."""

    # Which server this pretends to be: "production" or "sandbox".
    environment: str = "production"
    clients: list[dict[str, Any]] = field(default_factory=lambda: [default_client()])
    users: list[dict[str, Any]] = field(default_factory=lambda: [default_user()])
    # Lifetimes in seconds; RingCentral's defaults are 1 hour and 7 days.
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 604800
    # Re-presenting a just-rotated refresh token returns the same new pair for about 10 s on the
    # real platform. Tests set 0 to make every reuse fail with OAU-213.
    refresh_grace_seconds: float = 10.0
    # "Usually five" parallel sessions per user and app; the next login ends the oldest.
    session_limit: int = 5
    # Requests per window per (user, app) and group; ringcentral-api.md, Rate limits.
    rate_limits: dict[str, int] = field(
        default_factory=lambda: {"Auth": 5, "Heavy": 10, "Medium": 40, "Light": 50}
    )
    rate_window_seconds: float = 60.0
    # Throttled for this long after a 429; every request during it starts it again.
    penalty_seconds: float = 60.0
    # Random faults, applied to the groups in fault_groups (the token endpoint is left alone
    # unless "Auth" is listed): 503 before processing, or processed then the connection dropped.
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    fault_groups: list[str] = field(default_factory=lambda: ["Medium", "Light", "Heavy"])
    seed: int | None = None
    # An accepted SMS is Queued, then Sent, then Delivered (or DeliveryFailed) after these delays.
    sent_after_seconds: float = 1.0
    delivered_after_seconds: float = 2.0
    # Recipients whose delivery fails, with the deliveryErrorCode they get.
    failing_numbers: dict[str, str] = field(
        default_factory=lambda: {
            "+15005550001": "SMS-CAR-411",  # landline or invalid
            "+15005550002": "SMS-RC-413",  # recipient opted out (STOP)
            "+15005550003": "SMS-UP-414",  # number not registered for SMS (10DLC)
        }
    )

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dataclasses.asdict(self))

    def updated(self, changes: dict[str, Any]) -> SimConfig:
        """A copy with `changes` applied; unknown keys or wrong types raise ValueError."""
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        current = self.to_dict()
        for name, value in changes.items():
            before = current[name]
            numeric = (int, float)
            if before is not None and value is not None:
                both_numbers = isinstance(before, numeric) and isinstance(value, numeric)
                if not both_numbers and type(before) is not type(value):
                    raise ValueError(f"{name} must be a {type(before).__name__}")
            current[name] = copy.deepcopy(value)
        return SimConfig(**current)

    def client(self, client_id: str) -> dict[str, Any] | None:
        return next((c for c in self.clients if c["client_id"] == client_id), None)
