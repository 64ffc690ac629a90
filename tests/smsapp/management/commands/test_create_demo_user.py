"""smsapp/management/commands/create_demo_user.py: the demo login of ./scripts/run keeps its
password across runs and signs nobody out."""

from __future__ import annotations

import io
import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _demo(password_file) -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_demo_user", "--password-file", str(password_file), stdout=out)
    name, password = out.getvalue().split()
    return name, password


def test_the_demo_password_is_kept_and_the_hash_untouched(tmp_path, staff_senders):
    kept = tmp_path / "demo-password"
    name, first = _demo(kept)
    user = get_user_model().objects.get(username=name)
    hash_before = user.password  # sessions are tied to it: a new hash signs everyone out
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert _demo(kept) == (name, first)
    user.refresh_from_db()
    assert user.password == hash_before
    assert user.check_password(first)


def test_without_a_file_every_run_gets_a_new_random_password(staff_senders):
    out1, out2 = io.StringIO(), io.StringIO()
    call_command("create_demo_user", stdout=out1)
    call_command("create_demo_user", stdout=out2)
    assert out1.getvalue().split()[1] != out2.getvalue().split()[1]


def test_the_demo_login_can_try_every_page_templates_and_opt_outs_included(client, staff_senders):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    call_command("create_demo_user", stdout=io.StringIO())
    demo = get_user_model().objects.get(username="demo")
    client.force_login(demo)
    for url in (
        reverse("campaigns:template-new"),
        reverse("campaigns:bulk-new"),
        reverse("conversations:list"),
        reverse("admin:smsapp_optout_changelist"),
        reverse("admin:auth_tokens_ringcentraltoken_changelist"),
        reverse("admin:auth_tokens_tokenevent_changelist"),
        reverse("monitoring:dashboard"),
        reverse("recurring:list"),
        reverse("recurring:new"),
    ):
        assert client.get(url).status_code == 200, url
    assert demo.has_perm("smsapp.manage_optouts")
