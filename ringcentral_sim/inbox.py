"""The inbox page: the texts the simulator accepted, newest first (what Mailpit is for email)."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#0b3d91;color:#fff;padding:1rem 1.5rem}
h1{font-size:1.25rem;margin:0}
main{padding:1rem 1.5rem;max-width:60rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid #d8dce2;vertical-align:top}
th{background:#eef1f5}
td.text{white-space:pre-wrap;word-break:break-word}
.status-Delivered{color:#116329}.status-DeliveryFailed,.status-SendingFailed{color:#a40e26}
"""


def page(records: list[dict[str, Any]]) -> str:
    rows = "\n".join(_row(r) for r in records) or (
        '<tr><td colspan="6">No texts yet. Send one from the app and it shows up here.</td></tr>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="3">
<title>RingCentral simulator: inbox</title><style>{STYLE}</style></head>
<body><header><h1>RingCentral simulator: texts received ({len(records)})</h1></header>
<main><table>
<thead><tr><th scope="col">Received</th><th scope="col">From</th><th scope="col">To</th>
<th scope="col">Text</th><th scope="col">Status</th><th scope="col">Id</th></tr></thead>
<tbody>
{rows}
</tbody></table></main></body></html>
"""


def _row(record: dict[str, Any]) -> str:
    to = ", ".join(t["phoneNumber"] for t in record["to"])
    status = record["messageStatus"]
    detail = f" ({record['deliveryErrorCode']})" if "deliveryErrorCode" in record else ""
    return (
        f"<tr><td>{escape(record['creationTime'])}</td>"
        f"<td>{escape(record['from']['phoneNumber'])}</td><td>{escape(to)}</td>"
        f'<td class="text">{escape(record["subject"])}</td>'
        f'<td class="status-{escape(status)}">{escape(status + detail)}</td>'
        f"<td>{record['id']}</td></tr>"
    )
