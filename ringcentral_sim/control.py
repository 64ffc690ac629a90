"""A client for the simulator's control API, for tests and scripts in any process."""

from __future__ import annotations

from typing import Any

import requests


class SimulatorControl:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        # Always a JSON body: the simulator refuses changes sent any other way.
        response = self._http.request(
            method,
            f"{self.url}/_sim/{path}",
            json=None if method == "GET" else (payload if payload is not None else {}),
            timeout=self._timeout,
        )
        if response.status_code != 200:
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

    def messages(self) -> list[dict[str, Any]]:
        return self._call("GET", "messages")["records"]

    def sessions(self) -> list[dict[str, Any]]:
        return self._call("GET", "sessions")["sessions"]
