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
# The default user's high-volume number: A2PSmsSender, so POST /sms refuses it (MSG-242).
DEFAULT_A2P_NUMBER = "+16505550120"

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
        # "Enabled", "MfaRequired" (password grant: OAU-168), or any other state such as
        # "Disabled" or "NotActivated": login not allowed, OAU-141.
        "state": "Enabled",
        # Phone-number ids are int64 in UserPhoneNumberInfo; a number is an SmsSender or an
        # A2PSmsSender, never both (docs/ringcentral.md#high-volume-sms).
        "phone_numbers": [
            {
                "id": 500000001,
                "phoneNumber": DEFAULT_FROM_NUMBER,
                "features": ["SmsSender", "MmsSender", "CallerId"],
                "status": "Normal",
                "usageType": "DirectNumber",
                "type": "VoiceFax",
            },
            {
                "id": 500000003,
                "phoneNumber": DEFAULT_A2P_NUMBER,
                "features": ["A2PSmsSender", "CallerId"],
                "status": "Normal",
                "usageType": "DirectNumber",
                "type": "VoiceFax",
            },
        ],
    }


# What the real message store is suspected to do, all at once: for tests that must survive
# it (docs/simulator.md). Apply with SimulatorControl.configure(**REAL_STORE_SETTINGS).
REAL_STORE_SETTINGS: dict[str, Any] = {
    "store_numbers_without_plus": True,
    "store_list_lag_seconds": 3.0,
    "strict_store_dates": True,
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
    # Re-presenting a just-rotated refresh token returns the same new pair for a while
    # (docs/ringcentral.md#token-rotation): about 10 s once the new access token has been used (this
    # setting, counted from that first use), up to 60 min while it never is (the next one,
    # counted from the rotation; it also caps the whole window). 0 here means no grace at all,
    # whatever the other says: tests set it to make every reuse fail with OAU-213 at once.
    refresh_grace_seconds: float = 10.0
    refresh_grace_unused_seconds: float = 3600.0
    # False: the password grant answers 400 unauthorized_client / OAU-251 for every app, as the
    # current published spec implies (it lists only authorization_code, JWT and refresh_token).
    # A single app can also be refused it through its "grants" list.
    password_grant_allowed: bool = True
    # "Usually five" parallel sessions per user and app; the next login ends the oldest.
    session_limit: int = 5
    # Requests per window per (user, app) and group; docs/ringcentral.md#rate-limits.
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
    # Recipients whose delivery fails (Sent, then DeliveryFailed), with the deliveryErrorCode.
    failing_numbers: dict[str, str] = field(
        default_factory=lambda: {
            "+15005550001": "SMS-CAR-411",  # landline or invalid
            "+15005550002": "SMS-RC-413",  # recipient opted out (STOP)
            "+15005550003": "SMS-UP-414",  # number not registered for SMS (10DLC)
        }
    )
    # Recipients RingCentral never hands the text to: Queued, then SendingFailed with the code
    # (an opted-out pair is refused this way; docs/ringcentral.md#opt-out).
    sending_failed_numbers: dict[str, str] = field(
        default_factory=lambda: {"+15005550004": "SMS-RC-413"}
    )
    # Recipients whose carrier never sends a receipt: Sent for good, no smsDeliveryTime.
    no_receipt_numbers: list[str] = field(default_factory=lambda: ["+15005550005"])
    # Message-store behaviours the reference leaves open (docs/simulator.md). Records "usually"
    # hold E.164 numbers: True writes every phoneNumber of an API answer without the "+".
    store_numbers_without_plus: bool = False
    # A text accepted at T shows up in message-store lists only from T + this (reads by id at
    # once); its creationTime stays T.
    store_list_lag_seconds: float = 0.0
    # dateFrom/dateTo only in the documented form (UTC, "Z", milliseconds optional), else 400
    # CMN-101. False accepts any ISO 8601 form, a zone-less one read as UTC.
    strict_store_dates: bool = True
    # Message sync (docs/simulator.md#message-sync): an ISync returns what changed since the
    # previous syncTime minus this overlap, so a record can come twice (dedupe by id).
    sync_overlap_seconds: float = 5.0
    # A syncToken older than this answers 400 MSG-333; 0 keeps tokens until a reset or
    # POST /_sim/sync/reset (how long real ones last is not documented).
    sync_token_ttl_seconds: float = 0.0
    # Webhook subscriptions (docs/simulator.md#webhook-subscriptions). The validation request
    # and every notification must be answered within this many seconds (the guide says 3000 ms).
    webhook_timeout_seconds: float = 3.0
    # The header a notification carries the subscription's verificationToken in. The reference
    # says "Verification-Token"; some guide pages say "Validation-Token": the app takes either.
    webhook_token_header: str = "Verification-Token"
    # A failed notification (non-2xx, timeout, refused) is tried again this many times, this
    # far apart. Retries are not documented: our reading.
    webhook_retries: int = 1
    webhook_retry_delay_seconds: float = 1.0
    # This many failed attempts in a row make the subscription "Blacklisted" for good.
    webhook_failures_to_blacklist: int = 3
    # The SMS consents API (v2). False: both endpoints answer 403 with consents_denied_code,
    # "CMN-401" (the app lacks the permission) or "CMN-408" (the user does).
    consents_allowed: bool = True
    consents_denied_code: str = "CMN-401"
    # High-volume (A2P) batches (docs/simulator.md#high-volume-a2p-batches). False: every
    # a2p-sms call answers 403 CMN-401 (the app lacks the A2PSMS permission).
    a2p_allowed: bool = True
    # More messages than this in one POST .../a2p-sms/batches: 400 CMN-101. The guide quotes
    # both "about 50 MB" a request and 10,000 texts a request: the smaller figure.
    a2p_max_batch_size: int = 10000
    # The 403 for a from number that is not the user's or lacks A2PSmsSender: undocumented, so
    # our reading, the code POST /sms uses for the same fault. Any code can be set.
    a2p_sender_refused_code: str = "MSG-242"
    # A message's cost once handed to a carrier, per segment (the definitions' example, 0.007).
    a2p_cost_per_segment: float = 0.007

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
                # bool is an int to Python, but 1 is no switch and True is no duration.
                both_numbers = (
                    isinstance(before, numeric)
                    and isinstance(value, numeric)
                    and not isinstance(before, bool)
                    and not isinstance(value, bool)
                )
                if not both_numbers and type(before) is not type(value):
                    raise ValueError(f"{name} must be a {type(before).__name__}")
            current[name] = copy.deepcopy(value)
        return SimConfig(**current)

    def client(self, client_id: str) -> dict[str, Any] | None:
        return next((c for c in self.clients if c["client_id"] == client_id), None)
