"""auth_tokens/admin.py: state in words for viewers, actions for managers, never a secret on a
page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from auth_tokens.crypto import decrypt
from auth_tokens.errors import CredentialsBlocked, CredentialsRejected
from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token, refresh_now
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:auth_tokens_ringcentraltoken_changelist"


def change_url(row: RingCentralToken) -> str:
    return reverse("admin:auth_tokens_ringcentraltoken_change", args=[row.pk])


def run_url(row: RingCentralToken, name: str) -> str:
    return reverse("admin:auth_tokens_ringcentraltoken_run", args=[row.pk, name])


def list_action(client: Client, row: RingCentralToken, action: str):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [row.pk], "index": 0},
        follow=True,
    )


def staff_user(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="unused-77", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def readonly_value(html: str, field: str) -> str:
    """What the admin shows for a read-only `field` on a change page."""
    match = re.search(rf'field-{field}".*?<div class="readonly">(.*?)</div>', html, re.S)
    assert match, f"no read-only field {field}"
    return match.group(1)


def token_requests(simulator: SimulatorControl, grant: str, outcome: str = "ok") -> int:
    return simulator.counters()["token_requests"].get(grant, {}).get(outcome, 0)


def reject_login(settings) -> RingCentralToken:
    settings.RINGCENTRAL_PASSWORD = "wrong-pass-77"
    with pytest.raises(CredentialsRejected):
        get_access_token()
    return RingCentralToken.objects.get()


@pytest.fixture
def viewer_client(client: Client) -> Client:
    client.force_login(staff_user("viewer", "view_ringcentraltoken"))
    return client


@pytest.fixture
def manager_client(client: Client) -> Client:
    client.force_login(staff_user("manager", "view_ringcentraltoken", "manage_ringcentraltoken"))
    return client


@pytest.fixture
def logged_in_row(rc_settings) -> RingCentralToken:
    get_access_token()
    return RingCentralToken.objects.get()


def test_viewer_sees_state_in_words_and_countdowns_but_no_actions(
    viewer_client: Client, logged_in_row: RingCentralToken, simulator: SimulatorControl
) -> None:
    listing = viewer_client.get(reverse(CHANGELIST)).content.decode()
    assert "healthy" in listing
    # Access token: one hour from the simulator; refresh token: seven days.
    assert re.search(r">in \d+ min<", listing)
    assert re.search(r">in 6 d 23 h<", listing)
    assert "Refresh now" not in listing
    assert 'name="action"' not in listing

    detail = viewer_client.get(change_url(logged_in_row)).content.decode()
    assert '<p class="summary">healthy</p>' in detail
    assert logged_in_row.access_fingerprint in detail
    assert 'value="Refresh now"' not in detail
    assert 'value="Clear the block"' not in detail

    # Acting without the manage permission: refused, and nothing reaches RingCentral.
    assert viewer_client.post(run_url(logged_in_row, "refresh_now")).status_code == 403
    list_action(viewer_client, logged_in_row, "refresh_now")
    logged_in_row.refresh_from_db()
    assert logged_in_row.refresh_count == 0
    assert token_requests(simulator, "refresh_token") == 0


def test_viewer_cannot_add_edit_or_delete_rows(
    viewer_client: Client, manager_client: Client, logged_in_row: RingCentralToken
) -> None:
    for client in (viewer_client, manager_client):
        assert client.get(reverse("admin:auth_tokens_ringcentraltoken_add")).status_code == 403
        detail = client.get(change_url(logged_in_row)).content.decode()
        assert 'name="_save"' not in detail
        assert 'name="server_url"' not in detail
        delete = reverse("admin:auth_tokens_ringcentraltoken_delete", args=[logged_in_row.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert RingCentralToken.objects.filter(pk=logged_in_row.pk).exists()


def test_manager_refresh_now_refreshes_through_ringcentral(
    manager_client: Client, logged_in_row: RingCentralToken, simulator: SimulatorControl
) -> None:
    old_fingerprint = logged_in_row.access_fingerprint

    page = list_action(manager_client, logged_in_row, "refresh_now").content.decode()

    assert token_requests(simulator, "refresh_token") == 1
    logged_in_row.refresh_from_db()
    assert logged_in_row.refresh_count == 1
    assert logged_in_row.access_fingerprint != old_fingerprint
    assert "Refresh now for" in page
    assert logged_in_row.access_fingerprint in page  # the outcome names the new token, masked


def test_manager_log_in_again_button_on_the_detail_page_logs_in(
    manager_client: Client, logged_in_row: RingCentralToken, simulator: SimulatorControl
) -> None:
    detail = manager_client.get(change_url(logged_in_row)).content.decode()
    for label in ("Refresh now", "Log in again", "Revoke tokens"):
        assert f'value="{label}"' in detail
    assert 'value="Clear the block"' not in detail  # nothing is blocked

    response = manager_client.post(run_url(logged_in_row, "log_in_again"), follow=True)

    assert response.redirect_chain[-1][0] == change_url(logged_in_row)
    assert token_requests(simulator, "password") == 2
    logged_in_row.refresh_from_db()
    assert logged_in_row.login_count == 2
    assert "Logged in again" in response.content.decode()


def test_manager_revoke_tokens_asks_first_then_forgets_the_pair_and_ends_the_session(
    manager_client: Client, logged_in_row: RingCentralToken, simulator: SimulatorControl
) -> None:
    assert simulator.counters()["live_sessions"] == 1

    step = list_action(manager_client, logged_in_row, "revoke_tokens").content.decode()

    # The list action only shows what would happen, with a form that posts it again.
    assert "Yes, revoke the tokens" in step
    assert 'name="confirmed" value="yes"' in step
    assert f'name="_selected_action" value="{logged_in_row.pk}"' in step
    logged_in_row.refresh_from_db()
    assert logged_in_row.access_token_encrypted != ""
    assert simulator.counters()["live_sessions"] == 1

    manager_client.post(
        reverse(CHANGELIST),
        {"action": "revoke_tokens", "_selected_action": [logged_in_row.pk], "confirmed": "yes"},
    )

    logged_in_row.refresh_from_db()
    assert logged_in_row.access_token_encrypted == ""
    assert logged_in_row.refresh_token_encrypted == ""
    assert simulator.counters()["live_sessions"] == 0


def test_the_revoke_button_on_the_detail_page_asks_first(
    manager_client: Client, logged_in_row: RingCentralToken, simulator: SimulatorControl
) -> None:
    step = manager_client.post(run_url(logged_in_row, "revoke_tokens"))

    assert step.status_code == 200
    page = step.content.decode()
    assert f'action="{run_url(logged_in_row, "revoke_tokens")}"' in page
    assert f'href="{change_url(logged_in_row)}" class="button cancel-link">No, keep them' in page
    logged_in_row.refresh_from_db()
    assert logged_in_row.access_token_encrypted != ""
    assert simulator.counters()["live_sessions"] == 1

    done = manager_client.post(
        run_url(logged_in_row, "revoke_tokens"), {"confirmed": "yes"}, follow=True
    )

    assert done.redirect_chain[-1][0] == change_url(logged_in_row)
    assert "Tokens revoked" in done.content.decode()
    assert simulator.counters()["live_sessions"] == 0


def test_refresh_now_after_a_revoke_says_it_logged_in_again(
    manager_client: Client, logged_in_row: RingCentralToken, simulator: SimulatorControl
) -> None:
    manager_client.post(run_url(logged_in_row, "revoke_tokens"), {"confirmed": "yes"})
    detail = manager_client.get(change_url(logged_in_row)).content.decode()
    assert "refresh expired" in detail

    page = manager_client.post(run_url(logged_in_row, "refresh_now"), follow=True)

    html = page.content.decode()
    assert "Refresh now for" in html
    assert "Logged in again (password login), because there was no usable refresh token" in html
    assert "Refreshed:" not in html
    assert token_requests(simulator, "refresh_token") == 0
    assert token_requests(simulator, "password") == 2


def test_blocked_reads_as_words_and_times_have_seconds_and_zone(
    viewer_client: Client, logged_in_row: RingCentralToken, rc_settings
) -> None:
    detail = viewer_client.get(change_url(logged_in_row)).content.decode()
    assert readonly_value(detail, "blocked_now") == "no"  # not the admin's red cross
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
    assert stamp.fullmatch(readonly_value(detail, "created"))
    assert stamp.fullmatch(readonly_value(detail, "updated"))
    assert readonly_value(detail, "last_error_when") == "-"

    rc_settings.RINGCENTRAL_PASSWORD = "wrong-pass-77"
    with pytest.raises(CredentialsRejected):
        refresh_now(login=True)
    detail = viewer_client.get(change_url(logged_in_row)).content.decode()
    assert readonly_value(detail, "blocked_now").startswith("yes: texts wait until")
    assert stamp.fullmatch(readonly_value(detail, "last_error_when"))


def test_a_fixed_login_shows_the_last_error_as_resolved_without_its_advice(
    manager_client: Client, rc_settings, simulator: SimulatorControl
) -> None:
    row = reject_login(rc_settings)
    before = manager_client.get(change_url(row)).content.decode()
    assert "What to do:" in before
    assert "(resolved)" not in before

    rc_settings.RINGCENTRAL_PASSWORD = sim.DEFAULT_PASSWORD
    manager_client.post(run_url(row, "log_in_again"))
    after = manager_client.get(change_url(row)).content.decode()

    assert '<p class="summary">healthy</p>' in after
    assert re.search(
        r"Last error \(resolved\): OAU-140: .* at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</p>", after
    )
    assert "What to do:" not in after
    assert "Last error (resolved)</h2>" in after  # the fieldset too
    assert "field-last_error_hint" not in after


def test_manager_clear_the_block_lets_the_next_use_try_again(
    manager_client: Client, rc_settings, simulator: SimulatorControl
) -> None:
    row = reject_login(rc_settings)
    assert row.blocked
    assert 'value="Clear the block"' in manager_client.get(change_url(row)).content.decode()
    with pytest.raises(CredentialsBlocked):  # paused: no request goes out
        get_access_token()
    assert token_requests(simulator, "password", "OAU-140") == 1

    page = list_action(manager_client, row, "clear_block").content.decode()

    row.refresh_from_db()
    assert not row.blocked
    assert "Block cleared" in page
    # The same (still wrong) credentials are sent again: the block no longer holds them back.
    with pytest.raises(CredentialsRejected) as error:
        get_access_token()
    assert type(error.value) is CredentialsRejected
    assert token_requests(simulator, "password", "OAU-140") == 2


def test_rejected_login_shows_action_needed_and_hint_naming_server_and_user(
    viewer_client: Client, rc_settings, simulator: SimulatorControl
) -> None:
    row = reject_login(rc_settings)

    listing = viewer_client.get(reverse(CHANGELIST)).content.decode()
    assert "credentials rejected: action needed" in listing
    assert "OAU-140" in listing

    detail = viewer_client.get(change_url(row)).content.decode()
    banner = detail[
        detail.index('class="token-banner') : detail.index('id="ringcentraltoken_form"')
    ]
    assert "credentials rejected: action needed" in banner
    assert "What to do:" in banner
    assert simulator.url in banner
    assert sim.DEFAULT_USERNAME in banner
    assert "RINGCENTRAL_PASSWORD" in banner


def test_action_on_a_row_that_is_not_the_configured_set_does_nothing(
    manager_client: Client,
    logged_in_row: RingCentralToken,
    rc_settings,
    simulator: SimulatorControl,
) -> None:
    rc_settings.RINGCENTRAL_USERNAME = "+16505550199"

    page = list_action(manager_client, logged_in_row, "refresh_now").content.decode()

    assert "is not the configured credential set" in page
    assert token_requests(simulator, "refresh_token") == 0
    assert token_requests(simulator, "password") == 1
    detail = manager_client.get(change_url(logged_in_row)).content.decode()
    assert 'value="Refresh now"' not in detail
    assert "cannot be acted on" in detail


def test_admin_pages_never_show_tokens_ciphertext_or_password(
    admin_client: Client, logged_in_row: RingCentralToken, rc_settings
) -> None:
    pages = [
        admin_client.get(reverse(CHANGELIST)),
        admin_client.get(change_url(logged_in_row)),
        admin_client.post(run_url(logged_in_row, "refresh_now"), follow=True),
        list_action(admin_client, logged_in_row, "log_in_again"),
    ]
    logged_in_row.refresh_from_db()
    # A rejection fills the error fields and the block's HMAC.
    rc_settings.RINGCENTRAL_PASSWORD = "wrong-pass-77"
    with pytest.raises(CredentialsRejected):
        refresh_now(login=True)
    blocked_row = RingCentralToken.objects.get()
    pages += [
        admin_client.get(reverse(CHANGELIST)),
        admin_client.get(change_url(blocked_row)),
    ]
    secrets = [
        decrypt(logged_in_row.access_token_encrypted),
        decrypt(logged_in_row.refresh_token_encrypted),
        logged_in_row.access_token_encrypted,
        logged_in_row.refresh_token_encrypted,
        blocked_row.blocked_fingerprint,
        sim.DEFAULT_PASSWORD,
        "wrong-pass-77",
        sim.DEFAULT_CLIENT_SECRET,
    ]
    assert all(secrets), "every secret to look for must be non-empty"
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for secret in secrets:
            assert secret not in html
        assert "SIMAT-" not in html  # no simulator access token, including earlier ones
        assert "SIMRT-" not in html
