"""SMS backends, Django mail-backend style: pick one with the SMS_BACKEND setting."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from smsapp.backends.base import BaseSmsBackend

ALIASES = {
    "ringcentral": "smsapp.backends.ringcentral.RingCentralBackend",
    "console": "smsapp.backends.console.ConsoleBackend",
    "locmem": "smsapp.backends.locmem.LocmemBackend",
}


def get_backend(name: str | None = None) -> BaseSmsBackend:
    path = name or settings.SMS_BACKEND
    try:
        backend_class = import_string(ALIASES.get(path, path))
    except ImportError:
        raise ImproperlyConfigured(
            f"SMS_BACKEND {path!r} cannot be imported: use one of {', '.join(ALIASES)} "
            "or a dotted path to a BaseSmsBackend subclass"
        ) from None
    return backend_class()
