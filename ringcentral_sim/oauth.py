"""OAuth sessions: password, JWT and refresh grants, single-use refresh tokens, revocation."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from ringcentral_sim.config import SimConfig
from ringcentral_sim.errors import ApiError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "ReadAccounts ReadMessages SMS"
# User states that may log in; any other (Disabled, NotActivated, ...) gets OAU-141.
LOGIN_STATES = ("Enabled", "MfaRequired")


@dataclass
class Session:
    id: str
    client_id: str
    user: dict[str, Any]
    created_at: float
    access_token: str
    access_expires_at: float
    refresh_token: str | None
    refresh_expires_at: float
    revoked: bool = False
    # When the current access token first authenticated an API call: the refresh grace is
    # long while it never has, short once it has.
    access_first_used_at: float | None = None

    @property
    def user_key(self) -> str:
        return user_key(self.user)


@dataclass
class Rotation:
    """What a spent refresh token turned into, for the grace window and for reuse counting."""

    session_id: str
    rotated_at: float
    answer: dict[str, Any]


def user_key(user: dict[str, Any]) -> str:
    return f"{user['username']}*{user['extension']}"


def invalid_grant(code: str, message: str) -> ApiError:
    return ApiError(400, code, message, oauth_error="invalid_grant")


def token_not_found() -> ApiError:
    return invalid_grant("OAU-213", "Token not found")


def _split_username(username: str, extension: str) -> tuple[str, str] | None:
    """The extension may ride along as `+1650...*101`; None when it contradicts the field."""
    if "*" in username:
        username, _, in_name = username.partition("*")
        if extension and extension != in_name:
            return None
        extension = in_name
    return username, extension


def find_user(config: SimConfig, username: str, extension: str) -> dict[str, Any] | None:
    """Match by E.164 number or email, and the extension when one is given."""
    split = _split_username(username, extension)
    if split is None:
        return None
    username, extension = split
    for user in config.users:
        if username not in (user["username"], user.get("email")):
            continue
        if not extension or extension == user["extension"]:
            return user
    return None


def extension_unknown(config: SimConfig, username: str, extension: str) -> bool:
    """The username is someone's but no user of it has that extension: OAU-136."""
    split = _split_username(username, extension)
    if split is None:
        return False
    username, extension = split
    known = [u for u in config.users if username in (u["username"], u.get("email"))]
    return bool(extension and known) and all(u["extension"] != extension for u in known)


def in_refresh_grace(
    config: SimConfig, rotated_at: float, first_used_at: float | None, now: float
) -> bool:
    """Whether a just-rotated refresh token still returns its new pair
    (docs/ringcentral.md#token-rotation): up to refresh_grace_unused_seconds after the
    rotation while the new access token is unused, and refresh_grace_seconds after its first
    use. The unused window caps
    both. refresh_grace_seconds = 0 turns grace off entirely (what the test suite relies on)."""
    if config.refresh_grace_seconds <= 0:
        return False
    deadline = rotated_at + config.refresh_grace_unused_seconds
    if first_used_at is not None:
        deadline = min(deadline, first_used_at + config.refresh_grace_seconds)
    return now <= deadline


class TokenStore:
    """Not thread-safe on its own: the simulator calls it under its state lock."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sessions: dict[str, Session] = {}
        self._by_access: dict[str, str] = {}
        self._by_refresh: dict[str, str] = {}
        self._rotated: dict[str, Rotation] = {}
        # Access tokens that no longer work, with the 401 code a client then gets.
        self._dead_access: dict[str, str] = {}
        self.refresh_reuse_attempts = 0
        self.sessions_killed = 0

    # -- grants ---------------------------------------------------------------------------

    def login(
        self,
        config: SimConfig,
        client: dict[str, Any],
        user: dict[str, Any],
        *,
        now: float,
        grant: str,
        requested_ttls: tuple[int | None, int | None],
    ) -> dict[str, Any]:
        if user["state"] not in LOGIN_STATES:
            # OAU-136 is an extension that is not found; a found one that may not log in in
            # its state is OAU-141 (docs/ringcentral.md#token-errors).
            raise invalid_grant("OAU-141", "Login is not allowed for the extension in its state")
        if user["state"] == "MfaRequired" and grant == "password":
            raise invalid_grant("OAU-168", "Password grant is blocked: multi-factor auth required")
        self._enforce_session_limit(config, client["client_id"], user)
        session = Session(
            id=f"sim-session-{next(self._ids)}",
            client_id=client["client_id"],
            user=user,
            created_at=now,
            access_token="",
            access_expires_at=0.0,
            refresh_token=None,
            refresh_expires_at=0.0,
        )
        self.sessions[session.id] = session
        return self._issue(config, client, session, now=now, requested_ttls=requested_ttls)

    def refresh(
        self,
        config: SimConfig,
        client: dict[str, Any],
        refresh_token: str,
        *,
        now: float,
        requested_ttls: tuple[int | None, int | None],
    ) -> dict[str, Any]:
        rotation = self._rotated.get(refresh_token)
        if rotation is not None:
            # The signature of a refresh race: two holders of one single-use token.
            self.refresh_reuse_attempts += 1
            session = self.sessions.get(rotation.session_id)
            # The grace answer is only good while the pair it returns is still the current one.
            current = self._by_access.get(rotation.answer["access_token"]) == rotation.session_id
            used_at = session.access_first_used_at if session else None
            if session and current and in_refresh_grace(config, rotation.rotated_at, used_at, now):
                return dict(rotation.answer)
            raise token_not_found()
        session_id = self._by_refresh.get(refresh_token)
        session = self.sessions.get(session_id) if session_id else None
        if session is None or session.revoked or session.client_id != client["client_id"]:
            raise token_not_found()
        if now >= session.refresh_expires_at:
            raise invalid_grant("OAU-210", "Token expired")
        # Single use: the old refresh token is spent and the old access token dies at once.
        del self._by_refresh[refresh_token]
        self._kill_access(session, "OAU-129")
        answer = self._issue(config, client, session, now=now, requested_ttls=requested_ttls)
        self._rotated[refresh_token] = Rotation(session.id, now, answer)
        return dict(answer)

    def revoke(self, token: str) -> bool:
        session_id = self._by_access.get(token) or self._by_refresh.get(token)
        if session_id is None:
            return False
        self._end_session(self.sessions[session_id])
        return True

    def revoke_all(self) -> int:
        live = [s for s in self.sessions.values() if not s.revoked]
        for session in live:
            self._end_session(session)
        return len(live)

    # -- API authentication ---------------------------------------------------------------

    def authenticate(self, authorization: str | None, *, now: float) -> Session:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "CMN-405", "Authorization header is missing or not Bearer")
        session_id = self._by_access.get(token)
        if session_id is None:
            code = self._dead_access.get(token, "OAU-213")
            message = {"OAU-129": "Access token corrupted", "OAU-213": "Token not found"}[code]
            raise ApiError(401, code, message)
        session = self.sessions[session_id]
        if now >= session.access_expires_at:
            raise ApiError(401, "OAU-128", "Access token expired")
        if session.access_first_used_at is None:
            session.access_first_used_at = now
        return session

    def session_for_refresh_token(self, token: str) -> Session | None:
        session_id = self._by_refresh.get(token)
        if session_id is None and token in self._rotated:
            session_id = self._rotated[token].session_id
        return self.sessions.get(session_id) if session_id else None

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.revoked]

    # -- internals ------------------------------------------------------------------------

    def _issue(
        self,
        config: SimConfig,
        client: dict[str, Any],
        session: Session,
        *,
        now: float,
        requested_ttls: tuple[int | None, int | None],
    ) -> dict[str, Any]:
        access_ttl = _ttl(requested_ttls[0], config.access_token_ttl)
        refresh_ttl = _ttl(requested_ttls[1], config.refresh_token_ttl)
        session.access_token = "SIMAT-" + secrets.token_urlsafe(24)
        session.access_expires_at = now + access_ttl
        session.access_first_used_at = None
        self._by_access[session.access_token] = session.id
        answer: dict[str, Any] = {
            "access_token": session.access_token,
            "token_type": "bearer",
            "expires_in": access_ttl,
            "scope": SCOPE,
            "owner_id": session.user["extension_id"],
            "endpoint_id": f"sim-endpoint-{session.id}",
            "session_id": session.id,
        }
        if client.get("issue_refresh_tokens", True):
            session.refresh_token = "SIMRT-" + secrets.token_urlsafe(24)
            session.refresh_expires_at = now + refresh_ttl
            self._by_refresh[session.refresh_token] = session.id
            answer["refresh_token"] = session.refresh_token
            answer["refresh_token_expires_in"] = refresh_ttl
        return answer

    def _enforce_session_limit(
        self, config: SimConfig, client_id: str, user: dict[str, Any]
    ) -> None:
        mine = sorted(
            (
                s
                for s in self.live_sessions()
                if s.client_id == client_id and s.user_key == user_key(user)
            ),
            key=lambda s: s.created_at,
        )
        while len(mine) >= config.session_limit:
            self._end_session(mine.pop(0))
            self.sessions_killed += 1

    def _end_session(self, session: Session) -> None:
        session.revoked = True
        self._kill_access(session, "OAU-213")
        if session.refresh_token:
            self._by_refresh.pop(session.refresh_token, None)

    def _kill_access(self, session: Session, code: str) -> None:
        if self._by_access.pop(session.access_token, None) is not None:
            self._dead_access[session.access_token] = code


def _ttl(requested: int | None, configured: int) -> int:
    # A client may ask for a shorter lifetime than the server's, never a longer one.
    return min(requested, configured) if requested else configured
