"""Hosts on one machine: Linux network namespaces, each a "host" with a link of its own to the
root namespace, where PostgreSQL, Redis and the RingCentral simulator live.

    root namespace                                host A (netns)
    127.0.0.1:5432 PostgreSQL  <- forwarder -- 10.231.N.3:15432 ==veth== 10.231.N.4 (database only)
    127.0.0.1:6379 Redis       <- forwarder -- 10.231.N.1:16379 ==veth== 10.231.N.2
    10.232.M.1:<port> simulator (an address on the root lo, reached through each host's link)

PostgreSQL and Redis listen on 127.0.0.1 only, so the test process relays to them from each
host's root-side address (`Forwarder`, threads in the test process). A host reaches nothing
but through its own veth: `Host.link_down()` cuts it off from all three at once, like a machine
that loses its network. The simulator is bound to an address of the root namespace's `lo`,
which stays up whichever link goes down; each host routes to it over its own link.

PostgreSQL has a pair of addresses of its own on each link (10.231.N.3 on the root side,
10.231.N.4 on the host's), so that `Host.cut_database()` can part one host from PostgreSQL
alone, both ways, with two blackhole routes, while Redis, the broker and the simulator stay
reachable: a network partition rather than a pulled cable.

Names carry the test process's pid (netns `smsmh<pid>a`, links `smh<pid>a`, the lo address
labelled `lo:smh<pid>`), so a leftover of a run that crashed is recognised by its dead pid and
removed before the next run builds its network (`sweep_leftovers`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.support import processes
from tests.support.processes import Process

NETNS_PREFIX = "smsmh"
LINK_PREFIX = "smh"
POSTGRES_PORT = 15432
REDIS_PORT = 16379
RABBITMQ_PORT = 15673
# How the forwarder treats a host that went silent, as PostgreSQL does with
# tcp_keepalives_idle=5, tcp_keepalives_interval=1, tcp_keepalives_count=3 and
# tcp_user_timeout=8000: the relayed connection (and so the server session, with any
# transaction and row lock it held) ends within about 8 s. With the kernel's defaults it would
# last two hours (docs/multi-host.md).
KEEPALIVE_IDLE = 5
KEEPALIVE_INTERVAL = 1
KEEPALIVE_COUNT = 3
USER_TIMEOUT_MS = 8000


def unavailable() -> str | None:
    """Why this machine cannot build namespaces, or None."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is missing"
    return None


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_namespace_processes(ns: str) -> None:
    for pid in ip("netns", "pids", ns, check=False).stdout.split():
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


def sweep_leftovers() -> list[str]:
    """Remove namespaces, links and lo addresses of runs whose process is gone. Returns what
    was removed."""
    removed = []
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        match = re.fullmatch(rf"{NETNS_PREFIX}(\d+)[a-z]", name)
        if match and not _pid_alive(int(match.group(1))):
            _kill_namespace_processes(name)
            ip("netns", "del", name, check=False)
            removed.append(name)
    for line in ip("-o", "link", "show", check=False).stdout.splitlines():
        match = re.match(rf"\d+: ({LINK_PREFIX}(\d+)[a-z])[@:]", line)
        if match and not _pid_alive(int(match.group(2))):
            ip("link", "del", match.group(1), check=False)
            removed.append(match.group(1))
    # A partition's blackhole route (Host.cut_database) outlives a crashed run: removed once
    # no link of ours holds its subnet any more.
    links = ip("-4", "route", "show", "proto", "kernel", check=False).stdout
    for line in ip("-4", "route", "show", "type", "blackhole", check=False).stdout.splitlines():
        match = re.match(r"blackhole (10\.231\.(\d+)\.4)\b", line)
        if match and f"10.231.{match.group(2)}.0/24" not in links:
            ip("route", "del", "blackhole", f"{match.group(1)}/32", check=False)
            removed.append(f"blackhole {match.group(1)}")
    for line in ip("-o", "-4", "addr", "show", "dev", "lo", check=False).stdout.splitlines():
        match = re.search(rf"inet (\S+) .*lo:{LINK_PREFIX}(\d+)", line)
        if match and not _pid_alive(int(match.group(2))):
            ip("addr", "del", match.group(1), "dev", "lo", check=False)
            removed.append(match.group(1))
    return removed


def _addresses_in_use() -> set[ipaddress.IPv4Network]:
    used = set()
    for line in ip("-o", "-4", "addr", "show", check=False).stdout.splitlines():
        match = re.search(r"inet (\S+)", line)
        if match:
            used.add(ipaddress.ip_interface(match.group(1)).network)
    for line in ip("-4", "route", "show", check=False).stdout.splitlines():
        first = line.split()[0] if line.strip() else ""
        if first and first != "default":
            used.add(ipaddress.ip_network(first, strict=False))
    return used


def _free_block(pid: int) -> int:
    """An index b with 10.231.2b.0/24, 10.231.2b+1.0/24 and 10.232.b.1 unused on this machine;
    from the pid, so two runs at once rarely even look at the same block."""
    used = _addresses_in_use()
    for step in range(120):
        block = (pid + step) % 120
        wanted = [
            ipaddress.ip_network(f"10.231.{2 * block}.0/24"),
            ipaddress.ip_network(f"10.231.{2 * block + 1}.0/24"),
            ipaddress.ip_network(f"10.232.{block}.1/32"),
        ]
        if not any(w.overlaps(u) for w in wanted for u in used):
            return block
    raise RuntimeError("no free 10.231.x.0/24 pair for the namespaces")


# -- TCP forwarders -------------------------------------------------------------------------------


def _keepalive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_COUNT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, USER_TIMEOUT_MS)


class Forwarder:
    """Relays every connection to `listen` on to `target`, two threads per connection.

    With `keepalive` (the default) a connection whose client went silent ends within about
    8 s, as with a PostgreSQL tuned as docs/multi-host.md says; without it, it lasts as long as
    with a server left at the kernel's defaults (hours)."""

    def __init__(
        self, listen: tuple[str, int], target: tuple[str, int], *, keepalive: bool = True
    ) -> None:
        self.listen = listen
        self.target = target
        self.keepalive = keepalive
        self.connections = 0
        self._closed = False
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(listen)
        self._server.listen(128)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name=f"fwd-{listen}", daemon=True)
        self._thread.start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._sockets.update(socks)

    def _accept(self) -> None:
        while not self._closed:
            try:
                inbound, _ = self._server.accept()
            except OSError:
                return
            try:
                outbound = socket.create_connection(self.target, timeout=5)
            except OSError:
                inbound.close()
                continue
            outbound.settimeout(None)
            for sock in (inbound, outbound):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.keepalive:
                _keepalive(inbound)
            self._track(inbound, outbound)
            self.connections += 1
            for source, sink in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(
                    target=self._pipe, args=(source, sink), name="fwd-pipe", daemon=True
                ).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # Either side gone (a FIN, a reset, the keepalive's timeout): end both, so the
            # server sees the client go as it would without a relay in between.
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)

    def upstream_ports(self) -> set[int]:
        """The local ports of the connections to `target`: what the server sees as its
        clients' ports (pg_stat_activity.client_port), to tell which host a session is."""
        with self._lock:
            socks = list(self._sockets)
        ports = set()
        for sock in socks:
            with suppress(OSError):
                if sock.getpeername() == self.target:
                    ports.add(sock.getsockname()[1])
        return ports

    def close(self) -> None:
        self._closed = True
        with suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        with self._lock:
            socks = list(self._sockets)
        for sock in socks:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._thread.join(timeout=5)


# -- hosts -----------------------------------------------------------------------------------------


@dataclass
class Host:
    """One network namespace with a veth link to the root namespace."""

    label: str  # "a", "b"
    ns: str
    root_link: str  # the veth end in the root namespace
    host_link: str  # its peer, in the host's namespace
    root_ip: str
    host_ip: str
    database_ip: str  # root side: where this host's PostgreSQL relay listens
    host_database_ip: str  # host side: the source address of its PostgreSQL connections
    forwarders: dict[str, Forwarder] = field(default_factory=dict)

    def link_down(self) -> None:
        """The host's cable pulled: nothing gets in or out, nothing is closed."""
        ip("link", "set", self.root_link, "down")

    def link_up(self) -> None:
        ip("link", "set", self.root_link, "up")

    def cut_database(self) -> None:
        """A partition between this host and PostgreSQL: packets are dropped both ways,
        nothing is closed or refused; Redis, the broker and the simulator stay reachable."""
        ip("route", "add", "blackhole", f"{self.host_database_ip}/32")
        ip("netns", "exec", self.ns, "ip", "route", "replace", "blackhole", self.database_ip)

    def restore_database(self) -> None:
        ip("route", "del", "blackhole", f"{self.host_database_ip}/32", check=False)
        ip(*self._database_route("replace"))

    def _database_route(self, verb: str) -> list[str]:
        return [
            "netns", "exec", self.ns, "ip", "route", verb, f"{self.database_ip}/32",
            "dev", self.host_link, "src", self.host_database_ip,
        ]  # fmt: skip

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.ns]

    def pids(self) -> list[int]:
        return [int(p) for p in ip("netns", "pids", self.ns, check=False).stdout.split()]

    def env(self, env: dict[str, str], simulator_url: str) -> dict[str, str]:
        """A worker's environment (tests.support.processes.process_env) for this host: every
        service through this host's link, never 127.0.0.1."""
        out = dict(env)
        out["DATABASE_URL"] = _moved(env["DATABASE_URL"], self.database_ip, POSTGRES_PORT)
        for name in ("CELERY_BROKER_URL", "REDIS_URL"):
            if env.get(name):
                amqp = urlsplit(env[name]).scheme.startswith("amqp")
                port = RABBITMQ_PORT if amqp else REDIS_PORT
                out[name] = _moved(env[name], self.root_ip, port)
        out["RINGCENTRAL_SERVER_URL"] = simulator_url
        for name, value in out.items():
            if name.endswith("_URL") and ("127.0.0.1" in value or "localhost" in value):
                raise AssertionError(f"{name} still points at this machine's loopback: {value}")
        return out


def _moved(url: str, host: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _target(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


@dataclass
class Network:
    hosts: list[Host]
    service_ip: str  # on the root namespace's lo: where the simulator listens


@contextmanager
def network(
    database_url: str,
    redis_url: str,
    *,
    rabbitmq_url: str = "",
    hosts: int = 2,
    database_keepalive: bool = True,
) -> Iterator[Network]:
    """Build the namespaces, links, routes and forwarders; remove all of it on the way out,
    however the block ends. `database_keepalive=False`: PostgreSQL as installed, which keeps
    a silent client's session for hours (Forwarder)."""
    problem = unavailable()
    if problem:
        raise RuntimeError(problem)
    sweep_leftovers()
    pid = os.getpid()
    block = _free_block(pid)
    service_ip = f"10.232.{block}.1"
    with ExitStack() as stack:
        ip("addr", "add", f"{service_ip}/32", "dev", "lo", "label", f"lo:{LINK_PREFIX}{pid}")
        stack.callback(ip, "addr", "del", f"{service_ip}/32", "dev", "lo", check=False)
        built = []
        for index in range(hosts):
            label = "ab"[index]
            subnet = 2 * block + index
            host = Host(
                label=label,
                ns=f"{NETNS_PREFIX}{pid}{label}",
                root_link=f"{LINK_PREFIX}{pid}{label}",
                host_link=f"{LINK_PREFIX}{pid}{label}h",
                root_ip=f"10.231.{subnet}.1",
                host_ip=f"10.231.{subnet}.2",
                database_ip=f"10.231.{subnet}.3",
                host_database_ip=f"10.231.{subnet}.4",
            )
            ip("netns", "add", host.ns)
            stack.callback(_remove_namespace, host)
            ip("link", "add", host.root_link, "type", "veth", "peer", "name", host.host_link)
            ip("link", "set", host.host_link, "netns", host.ns)
            for address in (host.root_ip, host.database_ip):
                ip("addr", "add", f"{address}/24", "dev", host.root_link)
            ip("link", "set", host.root_link, "up")
            in_ns = ["netns", "exec", host.ns, "ip"]
            ip(*in_ns, "link", "set", "lo", "up")
            for address in (host.host_ip, host.host_database_ip):
                ip(*in_ns, "addr", "add", f"{address}/24", "dev", host.host_link)
            ip(*in_ns, "link", "set", host.host_link, "up")
            ip(*in_ns, "route", "add", "default", "via", host.root_ip)
            ip(*host._database_route("add"))
            services = [
                ("postgres", database_url, 5432, host.database_ip, POSTGRES_PORT),
                ("redis", redis_url, 6379, host.root_ip, REDIS_PORT),
            ]
            if rabbitmq_url:
                services.append(("rabbitmq", rabbitmq_url, 5672, host.root_ip, RABBITMQ_PORT))
            for name, url, default, address, port in services:
                keepalive = database_keepalive or name != "postgres"
                forwarder = Forwarder((address, port), _target(url, default), keepalive=keepalive)
                stack.callback(forwarder.close)
                host.forwarders[name] = forwarder
            built.append(host)
        yield Network(hosts=built, service_ip=service_ip)


def _remove_namespace(host: Host) -> None:
    _kill_namespace_processes(host.ns)
    ip("netns", "del", host.ns, check=False)  # takes the veth pair with it
    ip("link", "del", host.root_link, check=False)
    ip("route", "del", "blackhole", f"{host.host_database_ip}/32", check=False)


# -- processes in a host ------------------------------------------------------------------------


def start_worker(
    host: Host, env: dict[str, str], tmp_path: Path, *, concurrency: int = 4
) -> Process:
    """A prefork worker in `host`, answering ping (through the broker, from the test process)."""
    worker = processes.start_worker(
        env,
        tmp_path,
        concurrency=concurrency,
        prefix=host.exec_prefix(),
        name=f"sms-{host.label}-{uuid.uuid4().hex[:6]}@host-{host.label}",
        where=f" on host {host.label}",
    )
    worker.host = host  # which host it runs on, for the tests' per-host figures
    return worker


def start_beat(host: Host, env: dict[str, str], tmp_path: Path) -> Process:
    return processes.start_beat(env, tmp_path, prefix=host.exec_prefix(), label=host.label)
