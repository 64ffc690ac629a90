"""The RingCentral credential set the app logs in with, read from settings."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from auth_tokens.errors import TokenConfigurationError

PRODUCTION_URL = "https://platform.ringcentral.com"
SANDBOX_URL = "https://platform.devtest.ringcentral.com"


@dataclass(frozen=True)
class Credentials:
    server_url: str
    client_id: str
    client_secret: str = field(repr=False)
    username: str = ""
    extension: str = ""
    password: str = field(default="", repr=False)
    jwt: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls) -> Credentials:
        # Every send asks for the configured credentials: one object per configuration, so its
        # key (a sha256) is computed once, not per call. The values themselves are the cache
        # key because settings can still change within a process (tests override them).
        return _credentials(
            settings.RINGCENTRAL_SERVER_URL,
            settings.RINGCENTRAL_CLIENT_ID,
            settings.RINGCENTRAL_CLIENT_SECRET,
            settings.RINGCENTRAL_USERNAME,
            settings.RINGCENTRAL_EXTENSION,
            settings.RINGCENTRAL_PASSWORD,
            settings.RINGCENTRAL_JWT,
        )

    @property
    def grant(self) -> str:
        """The login grant: JWT when a JWT is configured, else the (end-of-life) password grant."""
        return "jwt" if self.jwt else "password"

    def missing_settings(self) -> list[str]:
        return list(self._missing)

    def require_complete(self) -> None:
        if self._missing:
            raise TokenConfigurationError(
                f"RingCentral is not configured: set {', '.join(self._missing)} "
                "(or RINGCENTRAL_JWT instead of the username and password)"
            )

    # cached_property works on this frozen dataclass (it writes the instance __dict__ directly):
    # the fields never change, so neither does anything derived only from them.
    @cached_property
    def _missing(self) -> tuple[str, ...]:
        required = {
            "RINGCENTRAL_SERVER_URL": self.server_url,
            "RINGCENTRAL_CLIENT_ID": self.client_id,
            "RINGCENTRAL_CLIENT_SECRET": self.client_secret,
        }
        if self.grant == "password":
            required |= {
                "RINGCENTRAL_USERNAME": self.username,
                "RINGCENTRAL_PASSWORD": self.password,
            }
        return tuple(name for name, value in required.items() if not value)

    @cached_property
    def key(self) -> str:
        """Identifies the token row: who logs in where, never with what secret (but a JWT
        is the identity itself, so its hash stands in for the username)."""
        who = f"jwt:{_sha256(self.jwt)}" if self.jwt else f"{self.username}*{self.extension}"
        return _sha256(f"{self.server_url}|{self.client_id}|{who}")

    @property
    def fingerprint(self) -> str:
        """Changes whenever any secret changes: a block on rejected credentials lifts then.
        Not cached: it also depends on SECRET_KEY, and only a blocked row needs it."""
        material = "|".join(
            (self.key, self.client_secret, self.username, self.extension, self.password, self.jwt)
        )
        return hmac.new(settings.SECRET_KEY.encode(), material.encode(), "sha256").hexdigest()

    @property
    def environment(self) -> str:
        if self.server_url == PRODUCTION_URL:
            return "production"
        if self.server_url == SANDBOX_URL:
            return "sandbox"
        return "custom server"

    def describe_server(self) -> str:
        return f"RingCentral {self.environment} ({self.server_url})"

    def describe_user(self) -> str:
        if self.grant == "jwt":
            return f"the JWT credential{f' of {self.username}' if self.username else ''}"
        return f"{self.username}{f' ext {self.extension}' if self.extension else ''}"


@lru_cache(maxsize=8)
@sensitive_variables("client_secret", "password", "jwt")
def _credentials(
    server_url: str,
    client_id: str,
    client_secret: str,
    username: str,
    extension: str,
    password: str,
    jwt: str,
) -> Credentials:
    return Credentials(
        server_url=server_url.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        username=username,
        extension=extension,
        password=password,
        jwt=jwt,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
