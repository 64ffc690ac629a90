"""Plain HTTP calls to the simulator the way a RingCentral client makes them, for its tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from ringcentral_sim import config as sim

EXTENSION = "/restapi/v1.0/account/~/extension/~"


class RcHttp:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def token(self, client: tuple[str, str] | None = None, **form: Any) -> requests.Response:
        auth = client or (sim.DEFAULT_CLIENT_ID, sim.DEFAULT_CLIENT_SECRET)
        return self.http.post(f"{self.url}/restapi/oauth/token", data=form, auth=auth, timeout=10)

    def password_login(self, **overrides: Any) -> requests.Response:
        form = {
            "grant_type": "password",
            "username": sim.DEFAULT_USERNAME,
            "extension": sim.DEFAULT_EXTENSION,
            "password": sim.DEFAULT_PASSWORD,
            **overrides,
        }
        return self.token(**form)

    def jwt_login(self, assertion: str = sim.DEFAULT_JWT) -> requests.Response:
        return self.token(
            grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=assertion
        )

    def refresh(self, refresh_token: str, http: requests.Session | None = None):
        return (http or self.http).post(
            f"{self.url}/restapi/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(sim.DEFAULT_CLIENT_ID, sim.DEFAULT_CLIENT_SECRET),
            timeout=10,
        )

    def revoke(self, token: str) -> requests.Response:
        return self.http.post(
            f"{self.url}/restapi/oauth/revoke",
            data={"token": token},
            auth=(sim.DEFAULT_CLIENT_ID, sim.DEFAULT_CLIENT_SECRET),
            timeout=10,
        )

    def login_tokens(self) -> dict[str, Any]:
        answer = self.password_login()
        assert answer.status_code == 200, answer.text
        return answer.json()

    def api(self, method: str, path: str, access_token: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        headers = {"Authorization": f"Bearer {access_token}"}
        return self.http.request(method, f"{self.url}{EXTENSION}{path}", headers=headers, **kwargs)

    def rest(self, method: str, path: str, access_token: str, **kwargs: Any) -> requests.Response:
        """A call to any REST path (subscriptions, the v2 consents API), not only the
        extension's."""
        kwargs.setdefault("timeout", 10)
        headers = {"Authorization": f"Bearer {access_token}"}
        return self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def send_sms(
        self,
        access_token: str,
        to: str = "+16505550199",
        text: str = "hello",
        sender: str = sim.DEFAULT_FROM_NUMBER,
        **kwargs: Any,
    ) -> requests.Response:
        body = {"from": {"phoneNumber": sender}, "to": [{"phoneNumber": to}], "text": text}
        return self.api("POST", "/sms", access_token, json=body, **kwargs)


def error_code(response: requests.Response) -> str:
    return response.json()["errors"][0]["errorCode"]


def store_date(moment: datetime) -> str:
    """The documented dateFrom/dateTo form: UTC, milliseconds, "Z"."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
