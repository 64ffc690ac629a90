"""The simulator's HTTP server: a thread per connection around one shared Simulator."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from ringcentral_sim.config import SimConfig
from ringcentral_sim.simulator import Request, Response, Simulator

logger = logging.getLogger("ringcentral_sim")


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as requests.Session expects of the real platform.
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: a response goes out as headers then body, and with Nagle's algorithm on the
    # body waits for the client's delayed ACK, about 40 ms on Linux, on every kept-alive call.
    # RingCentral adds no such wait; a simulator that did would slow every test and bench.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        # The v2 consents API updates with PATCH (UpdateOptRecordList).
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        host, port = self.server.server_address[:2]
        request = Request.with_query_string(
            parts.query,
            method=self.command,
            path=parts.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}:{port}",
        )
        try:
            response = self.server.simulator.handle(request)
        except Exception:
            # A simulator bug must answer 500 like a broken server, not kill the connection.
            logger.exception("simulator error on %s %s", self.command, parts.path)
            response = Response(500, b'{"errorCode": "CMN-500", "message": "Simulator error"}')
        if response.delay_before:
            time.sleep(response.delay_before)
        if response.drop:
            # Processed, then the connection goes away before any answer: the ambiguous case.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.delay_after:
            time.sleep(response.delay_after)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        # RingCentral names every answer with a request id (what its support asks for).
        self.send_header("RCRequestId", str(uuid.uuid4()))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        # Request lines only: paths and statuses, never headers, so no token reaches the log.
        logger.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: Simulator


class SimulatorServer:
    """Runs the simulator on a loopback port (0 picks a free one) in a background thread."""

    def __init__(
        self, config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.simulator = Simulator(config)
        self._server = _Server((host, port), _Handler)
        self._server.simulator = self.simulator
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ringcentral-sim", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
