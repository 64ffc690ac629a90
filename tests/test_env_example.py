""".env.example: what a person copies must not be able to produce a broken configuration."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.support.processes import run_python

SETTING_LINE = re.compile(r"^#?\s?([A-Z][A-Z0-9_]+)=")


def _names(project_root) -> list[str]:
    lines = (project_root / ".env.example").read_text().splitlines()
    return [m.group(1) for line in lines if (m := SETTING_LINE.match(line))]


def test_each_setting_appears_once_so_no_later_line_undoes_another(project_root):
    # Uncommenting a block used to leave SMS_FROM_NUMBER empty: a later line won.
    twice = [name for name, count in Counter(_names(project_root)).items() if count > 1]
    assert twice == []


def test_every_setting_named_is_one_the_app_reads(project_root):
    settings_source = (project_root / "smsapp" / "settings.py").read_text()
    unknown = [name for name in _names(project_root) if f'"{name}"' not in settings_source]
    assert unknown == []


@pytest.mark.processes
def test_copied_as_is_with_a_secret_key_it_passes_check(project_root, base_env, tmp_path):
    env = {k: v for k, v in base_env.items() if k != "SMSAPP_IGNORE_DOTENV"}
    for line in (project_root / ".env.example").read_text().splitlines():
        if (m := SETTING_LINE.match(line)) and not line.startswith("#"):
            env.pop(m.group(1), None)  # the file's value, not the test run's
    env["SECRET_KEY"] = "x" * 50
    dotenv = tmp_path / ".env"
    dotenv.write_text((project_root / ".env.example").read_text())
    code = (
        "import environ, os, sys; environ.Env.read_env(sys.argv[1]); "
        "os.environ['SMSAPP_IGNORE_DOTENV'] = '1'; "
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'smsapp.settings'); "
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check'])"
    )
    result = run_python("-c", code, str(dotenv), env=env)
    assert result.returncode == 0, result.stderr
    assert "DEBUG" not in result.stderr
