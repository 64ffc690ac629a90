"""A transport error in words fit for a text's reason and the log: what failed, no secrets."""

from __future__ import annotations

import re

from smsapp.error_reporting import hide_url_passwords

# requests and redis put the URL they tried in their messages. RingCentral calls carry the
# token in a header, never in the URL, but a query string is still nobody's business in a
# reason staff read: a server URL or a next-page link could carry one.
_QUERY = re.compile(r"(?<=[\w/~.%-])\?[^\s'\"()<>]+")
# A credential in an Authorization-style string, should one ever be quoted.
_CREDENTIAL = re.compile(r"\b(Bearer|Basic)\s+[\w\-.~+/=]+", re.IGNORECASE)
# urllib3 names connection objects by address: noise to a reader.
_OBJECT = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>:?\s*")
MAX_LENGTH = 300


def describe(error: BaseException) -> str:
    """`ConnectionError: HTTPConnection(host='platform.ringcentral.com', port=443): Failed to
    establish a new connection: [Errno 111] Connection refused`: the error's class and its
    innermost cause (urllib3's retry wrapper only repeats the URL), cleaned."""
    cause = _innermost(error)
    text = str(cause) or type(cause).__name__
    text = hide_url_passwords(text)
    text = _QUERY.sub("?...", text)
    text = _CREDENTIAL.sub(r"\1 [hidden]", text)
    text = _OBJECT.sub("", text)
    text = " ".join(f"{type(error).__name__}: {text}".split())
    return text if len(text) <= MAX_LENGTH else f"{text[: MAX_LENGTH - 3]}..."


def _innermost(error: BaseException) -> BaseException:
    # requests wraps urllib3's MaxRetryError, whose `reason` is what actually went wrong.
    wrapped = error.args[0] if error.args else None
    reason = getattr(wrapped, "reason", None)
    return reason if isinstance(reason, BaseException) else error
