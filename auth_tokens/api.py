"""auth_tokens' public surface: other apps and the benches import from here and nowhere else."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from auth_tokens import humanize
from auth_tokens.client import DEFAULT_RETRY_AFTER, error_code, retry_after
from auth_tokens.credentials import Credentials
from auth_tokens.errors import (
    AuthThrottled,
    AuthUnavailable,
    CredentialsBlocked,
    CredentialsRejected,
    RingCentralAuthError,
    TokenConfigurationError,
    TokenLockTimeout,
)
from auth_tokens.timing import worst_request_seconds

if TYPE_CHECKING:
    from auth_tokens.models import TokenEvent
    from auth_tokens.rest import ringcentral_request
    from auth_tokens.services import AccessToken, get_access_token
    from auth_tokens.setup_check import (
        FAIL,
        OK,
        SKIP,
        SettingProblem,
        Step,
        check_token_setup,
        skip,
    )
    from auth_tokens.status import (
        ACCESS_EXPIRED,
        BLOCKED,
        HEALTHY,
        NOT_CONFIGURED,
        NOT_LOGGED_IN,
        REFRESH_EXPIRED,
        THROTTLED,
        TokenStatusReport,
        token_status,
    )

__all__ = [
    "ACCESS_EXPIRED",
    "BLOCKED",
    "DEFAULT_RETRY_AFTER",
    "FAIL",
    "HEALTHY",
    "NOT_CONFIGURED",
    "NOT_LOGGED_IN",
    "OK",
    "REFRESH_EXPIRED",
    "SKIP",
    "THROTTLED",
    "AccessToken",
    "AuthThrottled",
    "AuthUnavailable",
    "Credentials",
    "CredentialsBlocked",
    "CredentialsRejected",
    "RingCentralAuthError",
    "SettingProblem",
    "Step",
    "TokenConfigurationError",
    "TokenEvent",
    "TokenLockTimeout",
    "TokenStatusReport",
    "check_token_setup",
    "error_code",
    "get_access_token",
    "humanize",
    "retry_after",
    "ringcentral_request",
    "skip",
    "token_status",
    "worst_request_seconds",
]

# The names that need the token model, by the module that defines them: imported on first use
# (__getattr__ below), so that this module imports before Django's apps are ready, as it must
# for smsapp.timing, which the start-up check of the timing rules imports before setup().
_LOADED_ON_FIRST_USE = {
    "auth_tokens.models": ("TokenEvent",),
    "auth_tokens.rest": ("ringcentral_request",),
    "auth_tokens.services": ("AccessToken", "get_access_token"),
    "auth_tokens.setup_check": (
        "FAIL",
        "OK",
        "SKIP",
        "SettingProblem",
        "Step",
        "check_token_setup",
        "skip",
    ),
    "auth_tokens.status": (
        "ACCESS_EXPIRED",
        "BLOCKED",
        "HEALTHY",
        "NOT_CONFIGURED",
        "NOT_LOGGED_IN",
        "REFRESH_EXPIRED",
        "THROTTLED",
        "TokenStatusReport",
        "token_status",
    ),
}
_MODULE_OF = {name: module for module, names in _LOADED_ON_FIRST_USE.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly from now on
    return value
