"""One row per RingCentral credential set: the current token pair, encrypted, and its health."""

from __future__ import annotations

from django.db import models

from auth_tokens.crypto import decrypt, fingerprint


class RingCentralToken(models.Model):
    class Obtained(models.TextChoices):
        PASSWORD = "password", "password login"
        JWT = "jwt", "JWT login"
        REFRESH = "refresh", "refresh"

    # sha256 of server, client id and user (or JWT): see Credentials.key.
    credential_key = models.CharField(max_length=64, unique=True, editable=False)
    server_url = models.CharField(max_length=200)
    client_id = models.CharField(max_length=200)
    username = models.CharField(max_length=200, blank=True)
    extension = models.CharField(max_length=20, blank=True)
    login_grant = models.CharField(max_length=10, help_text="How this app logs in: password or jwt")
    owner_id = models.CharField(max_length=40, blank=True, help_text="RingCentral extension id")

    # Tokens are Fernet ciphertext (auth_tokens.crypto); never displayed, only fingerprinted.
    access_token_encrypted = models.TextField(blank=True, editable=False)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    # The lifetime RingCentral granted; the refresh-ahead skew is a tenth of it (at most 60 s).
    access_token_ttl = models.PositiveIntegerField(default=0)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    obtained_by = models.CharField(max_length=10, choices=Obtained.choices, blank=True)

    last_refresh_at = models.DateTimeField(null=True, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    last_error_message = models.TextField(blank=True)
    last_error_hint = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    # Nobody calls the token endpoint before this (429 Retry-After): retries restart the penalty.
    throttled_until = models.DateTimeField(null=True, blank=True)
    # Rejected credentials pause automatic logins until the configuration (whose HMAC is kept
    # here) changes or an admin clears the block.
    blocked = models.BooleanField(default=False)
    blocked_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    # Bumped on every new token and every invalidation: a 401 only discards the version it saw.
    version = models.PositiveBigIntegerField(default=0)
    refresh_count = models.PositiveIntegerField(default=0)
    login_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "RingCentral token"
        permissions = (
            ("manage_ringcentraltoken", "Can refresh, log in again, revoke and unblock tokens"),
        )

    def __str__(self) -> str:
        who = self.username or self.login_grant
        if self.username and self.extension:
            who = f"{self.username}*{self.extension}"
        return f"{who} @ {self.server_url}"

    def __repr__(self) -> str:
        # Never the ciphertext, never the token: only fingerprints of the latter.
        return (
            f"<RingCentralToken {self} v{self.version} access={self.access_fingerprint} "
            f"refresh={self.refresh_fingerprint}>"
        )

    @property
    def access_fingerprint(self) -> str:
        return fingerprint(decrypt(self.access_token_encrypted))

    @property
    def refresh_fingerprint(self) -> str:
        return fingerprint(decrypt(self.refresh_token_encrypted))


class TokenEvent(models.Model):
    """What happened to a token row, in order: the history the row itself does not keep (it
    holds only the latest renewal and error). Rows are only ever added, in the same transaction
    as the row change they describe (auth_tokens.services), and never carry a token, a password
    or an error message: a kind, RingCentral's error code and a time. Pruned after
    RETENTION_DAYS by the monitoring app's alerts task."""

    class Kind(models.TextChoices):
        REFRESHED = "refreshed", "refreshed"
        LOGGED_IN = "logged_in", "logged in"
        REFRESH_REFUSED = "refresh_refused", "refresh token refused"
        # Any other failed renewal (a login refused without a block, RingCentral unavailable).
        LOGIN_FAILED = "login_failed", "renewal failed"
        THROTTLED = "throttled", "throttled (429)"
        BLOCKED = "blocked", "automatic logins blocked"
        BLOCK_CLEARED = "block_cleared", "block cleared"
        REVOKED = "revoked", "revoked"

    FAILURES = frozenset({Kind.REFRESH_REFUSED, Kind.LOGIN_FAILED, Kind.THROTTLED, Kind.BLOCKED})
    RENEWALS = frozenset({Kind.REFRESHED, Kind.LOGGED_IN})
    RETENTION_DAYS = 90

    token = models.ForeignKey(RingCentralToken, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    error_code = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ("-at", "-id")
        # The dashboard's timeline reads the last days by time, the alerts the latest few per
        # token, the retention rule deletes by time: one index on (at, id) serves the three.
        indexes = (models.Index(fields=("at", "id"), name="token_event_by_time"),)
        default_permissions = ("view",)

    def __str__(self) -> str:
        code = f" ({self.error_code})" if self.error_code else ""
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}{code}"
