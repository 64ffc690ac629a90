"""The inbox page: texts both ways, newest first, with forms to text the app (Mailpit for SMS)."""

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
td.text{white-space:pre-wrap;word-break:break-word;min-width:12rem}
/* Seven columns: the reply box takes what is left, and a narrow window scrolls the table,
   never the page. */
.wrap{overflow-x:auto}
td .when{white-space:nowrap}
.status-Delivered{color:#116329}.status-DeliveryFailed,.status-SendingFailed{color:#a40e26}
.tools{margin:0 0 1rem}.tools a{margin-right:1rem}
.dir{display:inline-block;font-size:.8rem;font-weight:600;padding:0 .4rem;border-radius:.25rem}
.dir-Inbound{background:#e3f0ff;color:#0b3d91}.dir-Outbound{background:#eef1f5;color:#444}
.dir-A2P{background:#fff4d6;color:#6b4a00}
tr.inbound td{background:#f3f8ff}
form{margin:0}
form.reply,form.send{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
form input[type=text],form input[type=tel]{font:inherit;padding:.3rem .4rem;
  border:1px solid #b8bfc9;border-radius:.25rem;min-width:0;flex:1 1 8rem}
form.reply input[type=text]{width:7rem}
form button{font:inherit;padding:.3rem .8rem;border:0;border-radius:.25rem;background:#0b3d91;
  color:#fff;cursor:pointer}
.send{background:#fff;padding:.75rem;margin:0 0 1rem;border:1px solid #d8dce2}
.send h2{font-size:1rem;margin:0 0 .5rem;width:100%}
.error{background:#fde8ec;color:#a40e26;padding:.5rem .75rem;margin:0 0 1rem}
/* Phones: one card per text instead of six squeezed columns. */
@media (max-width:40rem){
  main{padding:.75rem}
  thead{display:none}
  table,tbody,tr,td{display:block;width:auto}
  tr{border-bottom:2px solid #d8dce2;padding:.5rem 0}
  td{border:0;padding:.15rem .75rem}
  td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
  td.text{font-size:1.05rem;min-width:0}
  td.noreply{display:none}
  tr.inbound td{background:transparent}tr.inbound{background:#f3f8ff}
  /* 16px inputs: phones zoom into anything smaller; full-width fields, button below. */
  form input[type=text],form input[type=tel]{font-size:16px;flex:1 1 100%}
  form button{font-size:16px;padding:.45rem 1rem}
}
"""


def page(
    records: list[dict[str, Any]],
    *,
    refresh_seconds: int = 0,
    default_to: str = "",
    error: str = "",
) -> str:
    """The inbox; it reloads itself only when asked (?refresh=N): a page that reloads every
    few seconds is unusable on a phone, and loses the reader's place (and a half-typed reply).
    """
    rows = "\n".join(_row(r) for r in records) or (
        '<tr><td colspan="7">No texts yet. Send one from the app and it shows up here.</td></tr>'
    )
    notice = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{f'<meta http-equiv="refresh" content="{refresh_seconds}">' if refresh_seconds else ""}
<title>RingCentral simulator: inbox</title><style>{STYLE}</style></head>
<body><header><h1>RingCentral simulator: texts ({len(records)})</h1></header>
<main>{notice}<p class="tools"><a href="/">Refresh</a>{
        '<a href="/">Stop refreshing</a>'
        if refresh_seconds
        else '<a href="/?refresh=5">Refresh every 5 s</a>'
    }</p>
<form class="send" method="post" action="{REPLY_ACTION}">
<h2>Text the app from a number{f" (to {escape(default_to)})" if default_to else ""}</h2>
<input type="tel" name="from" required placeholder="From, e.g. +15551230001"
 aria-label="From number" autocomplete="off">
<input type="text" name="text" required placeholder="Text (STOP opts out)" aria-label="Text"
 autocomplete="off">
<button type="submit">Send to the app</button>
</form>
<div class="wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">To</th>
<th scope="col">Text</th><th scope="col">Status</th><th scope="col">Id</th>
<th scope="col">Reply</th></tr></thead>
<tbody>
{rows}
</tbody></table></div></main></body></html>
"""


# Where the reply forms post (simulator.INBOX_REPLY_PATH).
REPLY_ACTION = "/_sim/inbox/reply"


def a2p_record(message: dict[str, Any]) -> dict[str, Any]:
    """A high-volume (A2P) message, from the control API's shape, in the shape `_row` reads
    (the message store's), marked so the row says A2P."""
    record: dict[str, Any] = {
        "id": message["id"],
        "direction": "Outbound",
        "from": {"phoneNumber": message["from"]},
        "to": [{"phoneNumber": n} for n in message["to"]],
        "subject": message["text"],
        "messageStatus": message["status"],
        "creationTime": message["creationTime"],
        "a2p": True,
    }
    if message.get("errorCode"):
        record["deliveryErrorCode"] = message["errorCode"]
    return record


def _row(record: dict[str, Any]) -> str:
    to = ", ".join(t["phoneNumber"] for t in record["to"])
    status = record["messageStatus"]
    direction = record["direction"]
    detail = f" ({record['deliveryErrorCode']})" if "deliveryErrorCode" in record else ""
    # A batch (A2P) text: a short badge in the When cell, so the table gets no wider.
    badge = ' <span class="dir dir-A2P">A2P</span>' if record.get("a2p") else ""
    if direction == "Outbound":
        # A reply comes from the person the app texted, to the number it texted from.
        forms = "".join(
            _reply_form(t["phoneNumber"], record["from"]["phoneNumber"]) for t in record["to"]
        )
        reply = f'<td data-label="Reply">{forms}</td>'
    else:
        reply = '<td class="noreply"></td>'
    return (
        f'<tr class="{"inbound" if direction == "Inbound" else "outbound"}">'
        f'<td data-label="When"><span class="when">{escape(record["creationTime"])}</span> '
        f'<span class="dir dir-{escape(direction)}">{escape(direction)}</span>{badge}</td>'
        f'<td data-label="From">{escape(record["from"]["phoneNumber"])}</td>'
        f'<td data-label="To">{escape(to)}</td>'
        f'<td class="text">{escape(record["subject"])}</td>'
        f'<td data-label="Status" class="status-{escape(status)}">{escape(status + detail)}</td>'
        f'<td data-label="Id">{escape(str(record["id"]))}</td>{reply}</tr>'
    )


def _reply_form(their_number: str, our_number: str) -> str:
    return (
        f'<form class="reply" method="post" action="{REPLY_ACTION}">'
        f'<input type="hidden" name="from" value="{escape(their_number)}">'
        f'<input type="hidden" name="to" value="{escape(our_number)}">'
        f'<input type="text" name="text" required autocomplete="off" '
        f'aria-label="Reply from {escape(their_number)}" '
        f'placeholder="Their reply">'
        f'<button type="submit">Reply</button></form>'
    )
