"""RingCentral OAuth and REST calls as plain functions; token errors become typed exceptions."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from auth_tokens import hints
from auth_tokens.credentials import Credentials
from auth_tokens.errors import (
    AuthThrottled,
    AuthUnavailable,
    CredentialsRejected,
    InvalidGrant,
)
from metrics import definitions as metrics

logger = logging.getLogger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Without Retry-After on a 429, wait at least 30 s (docs/ringcentral.md#rate-limits).
DEFAULT_RETRY_AFTER = 30.0
_local = threading.local()


@dataclass(frozen=True)
class TokenAnswer:
    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_expires_in: int | None = None
    owner_id: str = ""


def _http() -> requests.Session:
    # One pooled session per thread: requests.Session is not documented as thread-safe.
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def _timeout() -> tuple[float, float]:
    return (settings.RINGCENTRAL_HTTP_TIMEOUT, settings.RINGCENTRAL_HTTP_TIMEOUT)


# Every function that holds a password, client secret, JWT, refresh or access token hides all
# its local variables from error pages and reports, and those of everything it calls (requests
# keeps the form and the Basic auth pair in its own locals): Django looks for the decorator in
# each frame's callers.
@sensitive_variables()
def login(creds: Credentials) -> TokenAnswer:
    if creds.grant == "jwt":
        return _token_request(creds, {"grant_type": JWT_GRANT, "assertion": creds.jwt})
    form = {"grant_type": "password", "username": creds.username, "password": creds.password}
    if creds.extension:
        form["extension"] = creds.extension
    return _token_request(creds, form)


@sensitive_variables()
def refresh(creds: Credentials, refresh_token: str) -> TokenAnswer:
    return _token_request(creds, {"grant_type": "refresh_token", "refresh_token": refresh_token})


@sensitive_variables()
def revoke(creds: Credentials, token: str) -> None:
    """End the session the token belongs to. Best effort: a failure is logged, never retried."""
    try:
        response = _http().post(
            f"{creds.server_url}/restapi/oauth/revoke",
            data={"token": token},
            auth=(creds.client_id, creds.client_secret),
            timeout=_timeout(),
        )
        metrics.ringcentral_answered("Auth", response.status_code)
        if response.status_code != 200:
            logger.warning("RingCentral revoke answered HTTP %s; ignored", response.status_code)
    except requests.RequestException as exc:
        metrics.ringcentral_answered("Auth", "error")
        logger.warning("RingCentral revoke failed (%s); ignored", type(exc).__name__)


@sensitive_variables()
def api_call(
    creds: Credentials, access_token: str, method: str, path: str, **kwargs: Any
) -> requests.Response:
    """One REST call with the bearer token; the caller reads the status and errorCode."""
    kwargs.setdefault("timeout", _timeout())
    headers = {"Authorization": f"Bearer {access_token}", **kwargs.pop("headers", {})}
    return _http().request(method, f"{creds.server_url}{path}", headers=headers, **kwargs)


def error_code(response: requests.Response) -> str:
    """RingCentral's errorCode from an error answer, or "" (logic keys on it, never on text)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("errorCode", ""))
    return str(body.get("errorCode", ""))


def retry_after(response: requests.Response, default: float | None) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return default


@sensitive_variables()
def _token_request(creds: Credentials, form: dict[str, str]) -> TokenAnswer:
    grant = form["grant_type"]
    where = creds.describe_server()
    kind = "refresh" if grant == "refresh_token" else "login"  # what the metrics count
    try:
        response = _http().post(
            f"{creds.server_url}/restapi/oauth/token",
            data=form,
            auth=(creds.client_id, creds.client_secret),
            timeout=_timeout(),
        )
    except requests.Timeout:
        _unanswered(kind)
        raise AuthUnavailable(f"{where} did not answer the token request in time") from None
    except requests.ConnectionError:
        _unanswered(kind)
        raise AuthUnavailable(
            f"could not connect to {where}", hint="Check RINGCENTRAL_SERVER_URL and the network."
        ) from None
    metrics.ringcentral_answered("Auth", response.status_code)
    if response.status_code == 200:
        try:
            answer = _parse_answer(response, where)
        except AuthUnavailable:
            metrics.token_renewal_failed(kind, "unreadable")
            raise
        metrics.token_renewed(kind)
        return answer
    error = _token_error(response, creds, grant)
    code = getattr(error, "code", "") or f"HTTP-{response.status_code}"
    metrics.token_renewal_failed(kind, code)
    # The structured line for log shippers (the decision is logged by auth_tokens.services):
    # RingCentral's request id is only here, in the answer's headers.
    logger.info(
        "RingCentral refused the %s request: HTTP %s %s",
        kind,
        response.status_code,
        code,
        extra={"error_code": code, "ringcentral_request_id": response.headers.get("RCRequestId")},
    )
    raise error


def _unanswered(kind: str) -> None:
    metrics.ringcentral_answered("Auth", "error")
    metrics.token_renewal_failed(kind, "unreachable")


@sensitive_variables()
def _parse_answer(response: requests.Response, where: str) -> TokenAnswer:
    try:
        body = response.json()
        return TokenAnswer(
            access_token=body["access_token"],
            expires_in=int(body["expires_in"]),
            refresh_token=body.get("refresh_token") or None,
            refresh_token_expires_in=(
                int(body["refresh_token_expires_in"]) if body.get("refresh_token") else None
            ),
            owner_id=str(body.get("owner_id", "")),
        )
    except (ValueError, KeyError, TypeError):
        raise AuthUnavailable(f"{where} sent a token answer this app cannot read") from None


def _token_error(response: requests.Response, creds: Credentials, grant: str) -> Exception:
    status, code = response.status_code, error_code(response)
    where = creds.describe_server()
    label = f"HTTP {status}{f' {code}' if code else ''}"
    if status == 429:
        wait = retry_after(response, DEFAULT_RETRY_AFTER) or DEFAULT_RETRY_AFTER
        return AuthThrottled(
            f"{where} is rate-limiting token requests ({label}); retry in {wait:.0f} s",
            retry_after=wait,
            code=code or "HTTP-429",
        )
    if status >= 500 or status == 408:
        return AuthUnavailable(
            f"{where} could not handle the token request ({label})",
            retry_after=retry_after(response, None),
            code=code or f"HTTP-{status}",
        )
    if grant == "refresh_token" and code in hints.REFRESH_REFUSED_CODES:
        return InvalidGrant(f"{where} refused the refresh token ({label})", code=code)
    return CredentialsRejected(
        f"{where} rejected the {_grant_name(grant)} login ({label})",
        code=code or f"HTTP-{status}",
        hint=hints.hint_for(code, creds),
    )


def _grant_name(grant: str) -> str:
    return {JWT_GRANT: "JWT", "password": "password", "refresh_token": "refresh"}.get(grant, grant)
