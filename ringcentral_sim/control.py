"""A client for the simulator's control API, for tests and scripts in any process."""

from __future__ import annotations

from typing import Any

import requests


class SimulatorControl:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._http = requests.Session()

    def _call(
        self, method: str, path: str, payload: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        # Always a JSON body: the simulator refuses changes sent any other way.
        response = self._http.request(
            method,
            f"{self.url}/_sim/{path}",
            json=None if method == "GET" else (payload if payload is not None else {}),
            params=params,
            timeout=self._timeout,
        )
        if response.status_code not in (200, 201):
            raise ValueError(f"simulator control {path}: {response.json().get('error')}")
        return response.json()

    def reset(self) -> None:
        self._call("POST", "reset")

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self._call("POST", "config", changes)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "config")

    def counters(self) -> dict[str, Any]:
        return self._call("GET", "counters")

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "clock", {"advance": seconds})

    def inject_fault(self, kind: str, *, group: str | None = None, count: int = 1, **extra: Any):
        return self._call("POST", "faults", {"kind": kind, "group": group, "count": count, **extra})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def revoke_all(self) -> int:
        return self._call("POST", "revoke-all")["revoked"]

    def messages(self, direction: str | None = "Outbound") -> list[dict[str, Any]]:
        """Texts in the store, newest first: by default those the app sent ("Outbound");
        "Inbound" for texts to the app, None for both."""
        params = {"direction": direction} if direction else None
        return self._call("GET", "messages", params=params)["records"]

    def inbound(
        self, from_number: str, text: str, *, to: str | None = None, deliveries: int = 1
    ) -> dict[str, Any]:
        """Text the app from `from_number` (to its first SmsSender number unless `to` says
        otherwise). Each webhook subscription is notified `deliveries` times, in the
        background. Returns the stored record as the REST API shows it."""
        payload: dict[str, Any] = {"from": from_number, "text": text, "deliveries": deliveries}
        if to is not None:
            payload["to"] = to
        return self._call("POST", "inbound", payload)

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every validation request and notification attempt sent to a webhook, in order."""
        return self._call("GET", "webhook-deliveries")["deliveries"]

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription not deleted, with `alive` False once expired."""
        return self._call("GET", "subscriptions")["records"]

    def reset_sync(self) -> int:
        """Invalidate every syncToken: the next ISync gets 400 MSG-333."""
        return self._call("POST", "sync/reset")["invalidated"]

    def opt_outs(self) -> list[dict[str, Any]]:
        """Opted-out (from, to) pairs, from keywords and the consents API alike."""
        return self._call("GET", "opt-outs")["records"]

    def sessions(self) -> list[dict[str, Any]]:
        return self._call("GET", "sessions")["sessions"]

    def a2p_batches(self) -> list[dict[str, Any]]:
        """Every high-volume (A2P) batch, newest first, as GET .../a2p-sms/batches/{id} shows
        it now, plus `messageCount` (the messages it accepted)."""
        return self._call("GET", "a2p/batches")["records"]

    def a2p_messages(self) -> list[dict[str, Any]]:
        """Every accepted A2P message, newest first: id, batchId, from, to[], text, status,
        errorCode (None unless it failed), creationTime, lastModifiedTime."""
        return self._call("GET", "a2p/messages")["records"]
