"""Alert emails to the admins (Django's mail_admins, so any email backend works) when texts are
about to pile up: automatic logins blocked, the refresh token close to expiry while renewals
keep failing, queued texts older than ALERT_QUEUED_MINUTES. Each condition at most once an hour.

Once an hour across every host, by the database's clock: each condition has a row
(AlertState); a checker sends only after a conditional UPDATE claimed it (last email an hour
old or more, no live claim), in autocommit, so no lock is held while the email goes out.

A crash between the claim and the send: the claim lapses after CLAIM (two minutes) and the next
check (beat runs one a minute) sends. A crash after the send but before it is recorded: the
same email once more, two minutes later. Both err towards telling the admins twice rather than
never. A failed send (the mail server refused) gives the claim back at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from auth_tokens.api import (
    BLOCKED,
    Credentials,
    TokenEvent,
    TokenStatusReport,
    humanize,
    token_status,
)
from monitoring.models import AlertState
from monitoring.selectors import queue_state
from smsapp.sending_health import sending_health

logger = logging.getLogger(__name__)

EVERY = timedelta(hours=1)
CLAIM = timedelta(minutes=2)
# "Keeps failing": this many renewal failures in a row, with none succeeding since. Keep-alive
# tries every 5 minutes once the refresh token is within a day of expiry, so one failure (a
# blip) is retried before anyone is emailed.
FAILURES_IN_A_ROW = 2

LOGIN_BLOCKED = "login_blocked"
REFRESH_EXPIRING = "refresh_expiring"
QUEUE_STALE = "queue_stale"


@dataclass(frozen=True)
class Alert:
    condition: str
    subject: str
    body: str


def alerts_check(*, now: datetime | None = None) -> list[str]:
    """Check every condition and email the admins about each that holds and was not emailed in
    the last hour. Returns the conditions emailed. Called by beat every minute (monitoring.
    tasks); call it outside a transaction, so the claim commits before the email goes out."""
    now = now or timezone.now()
    found = [alert for check in CHECKS.values() if (alert := check(now)) is not None]
    for alert in found:
        AlertState.objects.bulk_create(
            [AlertState(condition=alert.condition)], ignore_conflicts=True
        )
        AlertState.objects.filter(condition=alert.condition).update(last_seen_at=now)
    if not settings.ADMINS:
        if found:
            logger.warning(
                "Not emailed (ADMINS is empty): %s", "; ".join(alert.subject for alert in found)
            )
        return []
    return [alert.condition for alert in found if _claim_and_send(alert)]


def _claim_and_send(alert: Alert) -> bool:
    rows = AlertState.objects.filter(condition=alert.condition)
    hour_ago = ExpressionWrapper(Now() - Value(EVERY), output_field=DateTimeField())
    claimed = (
        rows.filter(Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=hour_ago))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=Now()))
        .update(claimed_until=ExpressionWrapper(Now() + Value(CLAIM), output_field=DateTimeField()))
    )
    if not claimed:
        return False
    try:
        mail_admins(alert.subject, alert.body, fail_silently=False)
    except Exception as error:  # whatever the backend raises: SMTP, a socket, its setup
        # Given back at once: the next check (a minute later) tries again. Only the error's
        # type is logged: an SMTP answer can quote what was sent to log in.
        rows.update(claimed_until=None)
        logger.warning("Alert email not sent (%s): %s", type(error).__name__, alert.subject)
        return False
    rows.update(
        last_sent_at=Now(),
        claimed_until=None,
        sent_count=F("sent_count") + 1,
        last_subject=alert.subject[:200],
    )
    logger.info("Alert emailed to the admins: %s", alert.subject)
    return True


# -- the conditions -------------------------------------------------------------------------


def _dashboard_and_token_page() -> str:
    # No request here to build absolute URLs from: the paths, which an admin opens on the site.
    return (
        f"Dashboard: {reverse('monitoring:dashboard')}\n"
        f"RingCentral token page: {reverse('admin:auth_tokens_ringcentraltoken_changelist')}\n"
    )


def login_blocked(now: datetime) -> Alert | None:
    status = token_status()
    if status.state != BLOCKED:
        return None
    error = status.last_error or {}
    code = error.get("code") or "a rejection"
    hold = settings.SMS_AUTH_HOLD_SECONDS / 60
    return Alert(
        LOGIN_BLOCKED,
        f"RingCentral logins are blocked ({code}): texts are waiting",
        "RingCentral rejected the app's credentials, so automatic logins are paused: no text "
        f"goes out, and each fails after waiting {hold:.0f} min (SMS_AUTH_HOLD_SECONDS).\n\n"
        f"Rejected at: {humanize.stamp(error.get('at'))} with {code}.\n"
        f"What to fix: {error.get('hint') or 'check the RINGCENTRAL_* settings.'}\n\n"
        "Changed settings lift the block by themselves; after fixing RingCentral's side, press "
        '"Log in again" on the token page.\n\n' + _dashboard_and_token_page(),
    )


def refresh_expiring(now: datetime) -> Alert | None:
    status = token_status()
    expires = status.refresh_expires_at
    margin = timedelta(hours=settings.ALERT_REFRESH_HOURS)
    if status.state == BLOCKED or expires is None or expires - now >= margin:
        return None  # a block has its own alert
    if not _renewals_keep_failing(status):
        return None
    error = status.last_error or {}
    return Alert(
        REFRESH_EXPIRING,
        f"RingCentral refresh token expires {humanize.expiry(expires, now=now)} and renewals "
        "keep failing",
        f"The refresh token expires {humanize.expiry(expires, now=now)} "
        f"({humanize.stamp(expires)}), and the last {FAILURES_IN_A_ROW} attempts to renew it "
        f"failed (last: {error.get('code') or 'no code'} at {humanize.stamp(error.get('at'))}). "
        "When it expires the app must log in with its credentials; if that fails too, texts "
        "stop.\n\n"
        f"What to check: {error.get('hint') or error.get('message') or 'the token page.'}\n\n"
        + _dashboard_and_token_page(),
    )


def _renewals_keep_failing(status: TokenStatusReport) -> bool:
    if not status.last_error or status.last_error.get("resolved"):
        return False
    recent = list(
        TokenEvent.objects.filter(token__credential_key=Credentials.from_settings().key)
        .order_by("-at", "-id")
        .values_list("kind", flat=True)[:FAILURES_IN_A_ROW]
    )
    return len(recent) == FAILURES_IN_A_ROW and all(k in TokenEvent.FAILURES for k in recent)


def queue_stale(now: datetime) -> Alert | None:
    queue = queue_state(now=now)
    age = queue.oldest_age(now)
    limit = timedelta(minutes=settings.ALERT_QUEUED_MINUTES)
    if age is None or age <= limit:
        return None
    causes = [problem.admin for problem in sending_health().problems]
    said = "\n".join(f"- {cause}" for cause in causes) or "- nothing found: see the dashboard"
    return Alert(
        QUEUE_STALE,
        f"Texts have waited {humanize.duration(age.total_seconds())} to go out",
        f"The oldest text waiting to go out has waited {humanize.duration(age.total_seconds())} "
        f"(ALERT_QUEUED_MINUTES is {settings.ALERT_QUEUED_MINUTES}). Queued: "
        f"{queue.counts['queued']}, scheduled: {queue.counts['scheduled']}, uncertain: "
        f"{queue.counts['uncertain']}.\n\nWhat the health check sees:\n{said}\n\n"
        + _dashboard_and_token_page(),
    )


CHECKS: dict[str, Callable[[datetime], Alert | None]] = {
    LOGIN_BLOCKED: login_blocked,
    REFRESH_EXPIRING: refresh_expiring,
    QUEUE_STALE: queue_stale,
}
