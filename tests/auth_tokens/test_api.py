"""auth_tokens/api.py: the app's whole public surface, importable before Django's apps load."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import auth_tokens
from auth_tokens import api
from tests.support.processes import run_python

APP = Path(auth_tokens.__file__).resolve().parent


def test_every_public_name_resolves() -> None:
    missing = [name for name in api.__all__ if getattr(api, name, None) is None]
    assert missing == []


@pytest.mark.processes
def test_api_imports_before_the_apps_are_ready() -> None:
    # smsapp.timing imports it for the start-up check of the timing rules, before setup().
    code = (
        "import django.apps, auth_tokens.api, smsapp.timing; "
        "assert not django.apps.apps.ready; "
        "print(auth_tokens.api.DEFAULT_RETRY_AFTER)"
    )
    done = run_python("-c", code, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "30.0"


def test_auth_tokens_never_imports_smsapp() -> None:
    # smsapp depends on auth_tokens, never the reverse.
    offenders = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "smsapp"]
    assert offenders == []
