"""Encryption at rest for stored tokens (Fernet), and fingerprints safe to show people."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables


@lru_cache(maxsize=4)
@sensitive_variables()
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    if not configured:
        # Derived from SECRET_KEY so a new deployment works without another secret to manage;
        # a separate TOKEN_ENCRYPTION_KEY is better (rotating SECRET_KEY then keeps tokens).
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"auth_tokens")
        return MultiFernet([Fernet(base64.urlsafe_b64encode(derived.derive(secret_key.encode())))])
    try:
        return MultiFernet([Fernet(key.strip()) for key in configured.split(",") if key.strip()])
    except ValueError:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEY must be one or more comma-separated Fernet keys: generate one "
            'with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        ) from None


def _current() -> MultiFernet:
    return _fernet(settings.TOKEN_ENCRYPTION_KEY, settings.SECRET_KEY)


@sensitive_variables()
def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode() if plaintext else ""


@sensitive_variables()
def decrypt(ciphertext: str) -> str | None:
    """The plaintext, or None when it cannot be read (the key changed): log in again then."""
    if not ciphertext:
        return None
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return None


@sensitive_variables("secret")
def fingerprint(secret: str | None) -> str:
    """A short, one-way label that tells tokens apart without revealing them."""
    if not secret:
        return "none"
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:10]
