"""A tiny local webhook for the simulator's tests: records requests, answers as told."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def is_validation(self) -> bool:
        return "validation-token" in self.headers and not self.body

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Answers validation requests with `validation_status`, echoing Validation-Token unless
    `echo` is False, and notifications with `statuses` in turn, then `status`; waits `delay`
    seconds before any answer."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.echo = True
        self.delay = 0.0
        self.validation_status = 200
        self.status = 200
        self.statuses: list[int] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(
                    {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
                )
                with receiver._changed:
                    receiver.received.append(got)
                    receiver._changed.notify_all()
                    if got.is_validation:
                        status = receiver.validation_status
                    elif receiver.statuses:
                        status = receiver.statuses.pop(0)
                    else:
                        status = receiver.status
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                if got.is_validation and receiver.echo:
                    self.send_header("Validation-Token", got.headers["validation-token"])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: stopping it is then quick, which keeps the tests fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhook"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def notifications(self) -> list[Received]:
        with self._changed:
            return [r for r in self.received if not r.is_validation]

    def validations(self) -> list[Received]:
        with self._changed:
            return [r for r in self.received if r.is_validation]

    def wait_for_notifications(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len([r for r in self.received if not r.is_validation]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        return self.notifications()
