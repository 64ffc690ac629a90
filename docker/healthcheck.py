"""Healthcheck for the web container: GET /healthz/live from gunicorn inside the container.

The slim image has no curl, hence Python. The request names a host from ALLOWED_HOSTS, so the
check keeps passing when the site only answers to its public name (Django answers 400 to any
other Host). Exit 0 when the answer is 200, else 1 with one line saying why.
"""

from __future__ import annotations

import http.client
import os
import sys


def host_header() -> str:
    for name in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = name.strip()
        if name and name != "*":
            # ".example.com" allows example.com and its subdomains.
            return name.lstrip(".")
    return "localhost"  # Django's default ALLOWED_HOSTS here, and fine for "*"


def main() -> int:
    port = int(os.environ.get("HEALTHCHECK_PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz/live", headers={"Host": host_header()})
        status = connection.getresponse().status
    except OSError as error:
        print(f"healthcheck: no answer on port {port}: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"healthcheck: /healthz/live answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
