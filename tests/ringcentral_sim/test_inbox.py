"""ringcentral_sim/inbox.py: the inbox page of the texts the simulator accepted."""

from __future__ import annotations

import requests


def test_inbox_page_lists_texts_newest_first_and_escapes_them(rc, simulator, access_token):
    rc.send_sms(access_token, to="+16505550101", text="first")
    rc.send_sms(access_token, to="+16505550102", text="<script>alert(1)</script>")
    page = requests.get(f"{simulator.url}/", timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text
    assert "<script>" not in page.text
    assert page.text.index("+16505550102") < page.text.index("+16505550101")


def test_inbox_reloads_only_when_asked_and_labels_cells_for_phones(rc, simulator, access_token):
    rc.send_sms(access_token, to="+16505550101", text="hello")
    quiet = requests.get(f"{simulator.url}/", timeout=10).text
    assert 'http-equiv="refresh"' not in quiet
    assert 'data-label="To"' in quiet  # the phone layout shows each cell with its label
    watching = requests.get(f"{simulator.url}/?refresh=5", timeout=10).text
    assert '<meta http-equiv="refresh" content="5">' in watching
