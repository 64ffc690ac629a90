"""The inbox page: the texts the simulator accepted, newest first (what Mailpit is for email)."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#0b3d91;color:#fff;padding:1rem 1.5rem}
h1{font-size:1.25rem;margin:0}
main{padding:1rem 1.5rem;max-width:80rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid #d8dce2;vertical-align:top}
th{background:#eef1f5}
td.text{white-space:pre-wrap;word-break:break-word;min-width:16rem}
td:first-child{white-space:nowrap}
.status-Delivered{color:#116329}.status-DeliveryFailed,.status-SendingFailed{color:#a40e26}
.tools{margin:0 0 1rem}.tools a{margin-right:1rem}
/* Phones: one card per text instead of six squeezed columns. */
@media (max-width:40rem){
  main{padding:.75rem}
  thead{display:none}
  table,tbody,tr,td{display:block;width:auto}
  tr{border-bottom:2px solid #d8dce2;padding:.5rem 0}
  td{border:0;padding:.15rem .75rem}
  td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
  td.text{font-size:1.05rem}
}
"""


def page(records: list[dict[str, Any]], *, refresh_seconds: int = 0) -> str:
    """The inbox; it reloads itself only when asked (?refresh=N): a page that reloads every
    few seconds is unusable on a phone, and loses the reader's place."""
    rows = "\n".join(_row(r) for r in records) or (
        '<tr><td colspan="6">No texts yet. Send one from the app and it shows up here.</td></tr>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{f'<meta http-equiv="refresh" content="{refresh_seconds}">' if refresh_seconds else ""}
<title>RingCentral simulator: inbox</title><style>{STYLE}</style></head>
<body><header><h1>RingCentral simulator: texts received ({len(records)})</h1></header>
<main><p class="tools"><a href="/">Refresh</a>{
        '<a href="/">Stop refreshing</a>'
        if refresh_seconds
        else '<a href="/?refresh=5">Refresh every 5 s</a>'
    }</p><table>
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
        f'<tr><td data-label="Received">{escape(record["creationTime"])}</td>'
        f'<td data-label="From">{escape(record["from"]["phoneNumber"])}</td>'
        f'<td data-label="To">{escape(to)}</td>'
        f'<td class="text">{escape(record["subject"])}</td>'
        f'<td data-label="Status" class="status-{escape(status)}">{escape(status + detail)}</td>'
        f'<td data-label="Id">{record["id"]}</td></tr>'
    )
