"""Error pages and error reports that never show a secret, with DEBUG on or off."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import FrameType
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

# A URL's userinfo: everything between "scheme://" and the last "@" of the same word, so a
# password with an unescaped "@" or "/" in it is still covered. Reading too far (an "@" later
# in a path) only hides more than needed; reading too little would show a password.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)(?P<userinfo>\S*)@", re.I)


def hide_url_passwords(text: str, substitute: str = "********************") -> str:
    """`redis://:pw@host/0` -> `redis://:********************@host/0`; the rest stays readable."""

    def hide(match: re.Match[str]) -> str:
        user, colon, password = match["userinfo"].partition(":")
        if not colon or not password:
            return match[0]  # a user name alone is not a secret
        return f"{match['scheme']}{user}:{substitute}@"

    return _URL_USERINFO.sub(hide, text)


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: settings, environment variables (runserver puts them in
    request.META) and locals named like JWT or anything under RINGCENTRAL_ are hidden, passwords
    inside URLs are masked, and all of it applies with DEBUG on too.

    With DEBUG on, Django's own filter ignores sensitive_variables and sensitive_post_parameters
    (is_active() is False), so the debug page showed the token request's password, client
    secret and refresh token, and RINGCENTRAL_JWT, CELERY_BROKER_URL and REDIS_URL in clear.
    """

    # Django's list (API, AUTH, TOKEN, KEY, SECRET, PASS, SIGNATURE, HTTP_COOKIE) plus JWT, and
    # every RingCentral setting: the server and user name are not secrets, but a page is no
    # place to learn which account sends the texts.
    hidden_settings = re.compile(
        r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|JWT|^RINGCENTRAL_", flags=re.I
    )

    def is_active(self, request: HttpRequest | None) -> bool:
        # Always: the debug page is reachable by whoever can reach a DEBUG server (a DNS
        # rebinding page in a developer's browser included), so DEBUG is no reason to show more.
        return True

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        # The parent recurses into dicts, lists and tuples through this method, so every string
        # at any depth gets its URL passwords masked.
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):  # lazy strings too (they pass isinstance)
            try:
                return hide_url_passwords(str(cleansed), self.cleansed_substitute)
            except Exception:  # a lazy value that cannot be evaluated shows as the parent's
                return cleansed
        return cleansed

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: FrameType
    ) -> Iterable[tuple[str, Any]]:
        # sensitive_variables marks the functions we know about; this catches the rest by
        # name (a local called password, refresh_token, jwt, auth, ...) and by shape (a dict of
        # form fields or headers, a URL with a password).
        return [
            (name, self._cleanse_local(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def _cleanse_local(self, name: str, value: Any) -> Any:
        if self.hidden_settings.search(name):
            return self.cleansed_substitute
        kind = type(value)  # not isinstance(): that would evaluate a lazy object
        if kind is str:
            return hide_url_passwords(value, self.cleansed_substitute)
        if kind in (dict, list, tuple):
            return self.cleanse_setting(name, value)
        return value
