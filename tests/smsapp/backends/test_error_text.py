"""smsapp/backends/error_text.py: what a transport error keeps: its cause, in words without
secrets."""

from __future__ import annotations

import pytest
import requests

from smsapp.backends.error_text import describe


def test_an_error_text_names_the_cause_without_query_strings_or_credentials():
    with pytest.raises(requests.ConnectionError) as refused:
        # Nothing listens on port 9; a token in the query string must not be repeated.
        requests.get("http://127.0.0.1:9/restapi/v1.0/x?access_token=SECRET1", timeout=2)
    text = describe(refused.value)
    assert text.startswith("ConnectionError: ")
    assert "Connection refused" in text
    assert "SECRET1" not in text
    quoted = Exception(
        "for https://bot:SECRET2@example.com/a?token=SECRET3 with Authorization: Bearer SECRET4"
    )
    text = describe(quoted)
    assert "example.com/a?..." in text
    assert not any(secret in text for secret in ("SECRET2", "SECRET3", "SECRET4"))
