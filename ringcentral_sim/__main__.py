"""Run the simulator by hand: `python -m ringcentral_sim --port 8765`."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path

from ringcentral_sim import config as defaults
from ringcentral_sim.config import REAL_STORE_SETTINGS, SimConfig
from ringcentral_sim.server import SimulatorServer


def build_config(args: argparse.Namespace) -> SimConfig:
    config = SimConfig()
    if args.config:
        try:
            changes = json.loads(Path(args.config).read_text())
            config = config.updated(changes)
        except (OSError, ValueError, TypeError) as exc:
            raise SystemExit(f"error: --config {args.config}: {exc}") from None
    client = config.clients[0]
    client.update(client_id=args.client_id, client_secret=args.client_secret)
    user = config.users[0]
    user.update(
        username=args.username, extension=args.extension, password=args.password, jwt=args.jwt
    )
    user["phone_numbers"][0]["phoneNumber"] = args.from_number
    switches: dict[str, object] = {}
    if args.real_store:
        switches |= REAL_STORE_SETTINGS
    if args.no_password_grant:
        switches["password_grant_allowed"] = False
    return config.updated(switches) if switches else config


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ringcentral_sim",
        description="A local RingCentral REST API simulator. Inbox page at / (text the app "
        "from there), control API at /_sim/ (config, counters, faults, clock, reset, "
        "revoke-all, inbound, webhook-deliveries, subscriptions, sync/reset, opt-outs).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--config", help="JSON file of settings to start with (see /_sim/config)")
    parser.add_argument("--client-id", default=defaults.DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=defaults.DEFAULT_CLIENT_SECRET)
    parser.add_argument("--username", default=defaults.DEFAULT_USERNAME)
    parser.add_argument("--extension", default=defaults.DEFAULT_EXTENSION)
    parser.add_argument("--password", default=defaults.DEFAULT_PASSWORD)
    parser.add_argument("--jwt", default=defaults.DEFAULT_JWT)
    parser.add_argument("--from-number", default=defaults.DEFAULT_FROM_NUMBER)
    parser.add_argument(
        "--real-store",
        action="store_true",
        help="message store as the real one may be: numbers without '+', lists 3 s late, "
        "strict dates (docs/simulator.md)",
    )
    parser.add_argument(
        "--no-password-grant",
        action="store_true",
        help="refuse the password grant with OAU-251, as the current published spec implies",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--log-prefix",
        default="[simulator] ",
        help="put before every line it prints (scripts/run, which prefixes lines itself, "
        "passes an empty one)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    prefix = args.log_prefix
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format=f"{prefix}%(message)s",
        stream=sys.stdout,
    )
    try:
        server = SimulatorServer(build_config(args), host=args.host, port=args.port)
    except OSError as exc:
        raise SystemExit(
            f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}"
        ) from None
    print(f"{prefix}RingCentral simulator on {server.url} (inbox: {server.url}/)", flush=True)
    # Its fake credentials as the app's settings, ready to paste into .env (they open nothing
    # but this simulator).
    app_settings = defaults.app_environment(server.url) | {
        "RINGCENTRAL_CLIENT_ID": args.client_id,
        "RINGCENTRAL_CLIENT_SECRET": args.client_secret,
        "RINGCENTRAL_USERNAME": args.username,
        "RINGCENTRAL_EXTENSION": args.extension,
        "RINGCENTRAL_PASSWORD": args.password,
        "SMS_FROM_NUMBER": args.from_number,
    }
    print(f"{prefix}The app's settings for it (.env):", flush=True)
    for name, value in app_settings.items():
        if value:
            print(f"{prefix}  {name}={value}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a person stops it
        server.serve_forever()


if __name__ == "__main__":
    main()
