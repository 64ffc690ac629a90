"""Authorized RingCentral REST calls: a 401 discards that token and retries once, never more."""

from __future__ import annotations

from typing import Any

import requests
from django.views.decorators.debug import sensitive_variables

from auth_tokens import client
from auth_tokens.credentials import Credentials
from auth_tokens.services import get_access_token, invalidate_access_token


@sensitive_variables("token")
def ringcentral_request(
    method: str, path: str, *, credentials: Credentials | None = None, **kwargs: Any
) -> requests.Response:
    """Send one REST call with the shared token. On 401 (OAU-128, OAU-129, OAU-213, CMN-405,
    ...) re-read the store first, as RingCentral advises: invalidate only the token that failed,
    get a token again (another process may already have renewed it), and retry once.

    Token errors (throttled, blocked, unavailable) propagate; transport errors from the call
    itself (timeouts, dropped connections) propagate as requests exceptions for the caller to
    classify, since only it knows whether a retry could duplicate something.
    """
    creds = credentials or Credentials.from_settings()
    token = get_access_token(credentials=creds)
    response = client.api_call(creds, token.value, method, path, **kwargs)
    if response.status_code != 401:
        return response
    invalidate_access_token(token, credentials=creds)
    token = get_access_token(credentials=creds)
    return client.api_call(creds, token.value, method, path, **kwargs)
