"""Text messages and their append-only timeline of events."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Message(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "scheduled"
        QUEUED = "queued", "queued"
        SENDING = "sending", "sending"
        # The request may have reached RingCentral (timeout or dropped connection after it
        # left): never resent blindly, only after the message store shows it did not arrive.
        UNCERTAIN = "uncertain", "checking whether it was sent"
        SENT = "sent", "sent"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"
        CANCELED = "canceled", "canceled"

    # What each status allows, defined once: the services decide by these sets (in their
    # conditional UPDATEs too), the pages show buttons by the properties below, and the
    # status JSON carries the properties to statuses.js, which stops polling a terminal text.
    # A terminal text changes no more by itself (only a person's "Send again" moves it on).
    TERMINAL = frozenset({Status.DELIVERED, Status.FAILED, Status.CANCELED})
    # Until the dispatcher claims it: after that it may already be at RingCentral.
    CANCELABLE = frozenset({Status.SCHEDULED})
    RETRYABLE = frozenset({Status.FAILED})

    to_number = models.CharField(max_length=20, help_text="E.164")
    from_number = models.CharField(max_length=20, help_text="E.164")
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sms_messages",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    provider_message_id = models.CharField(max_length=40, blank=True, db_index=True)
    # Calls to RingCentral that could have sent it (a 429 or an auth wait does not count).
    attempts = models.PositiveIntegerField(default=0)
    send_at = models.DateTimeField(null=True, blank=True, help_text="When a scheduled text is due")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a task was last put on the queue for it: the dispatcher re-enqueues one that was
    # lost (broker down at commit time, task dropped) once this is old.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # When the current attempt started: the message store is searched from here on when the
    # outcome is uncertain, and a message stuck in "sending" long after it was killed.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Who holds the current attempt (host:pid:attempt) and until when, by the database's clock.
    # The holder renews the lease while its attempt runs; a lease that lapsed means the holder
    # died, and the sweeper settles the send at once instead of waiting out an age limit.
    lease_holder = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the outcome of the last attempt became unknown: the attempt's request was made before
    # this, so the message store is believed about its absence only a settle time later.
    uncertain_since = models.DateTimeField(null=True, blank=True)
    # Since when it has been waiting for a person: a RingCentral login problem (throttled or
    # rejected) or incomplete RingCentral settings.
    held_since = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_reason = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_status_check_at = models.DateTimeField(null=True, blank=True)
    status_checks = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The idempotency key of the submission that created it (a hidden field of the compose
    # form, `send_sms --key`): unique with the recipient, so a double click or a retried POST
    # cannot create a second text for anyone. Empty for texts created without a key.
    submission_key = models.CharField(max_length=64, blank=True)
    # What that submission asked for (recipients, text, time, sender), hashed: a key used
    # again for something else is refused instead of answered with the first send's result.
    submission_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("submission_key", "to_number"),
                condition=~models.Q(submission_key=""),
                name="sms_one_text_per_submission",
            ),
        )
        indexes = (
            models.Index(fields=("status", "send_at"), name="sms_due_scheduled"),
            models.Index(fields=("status", "next_attempt_at"), name="sms_due_queued"),
            models.Index(fields=("status", "next_status_check_at"), name="sms_due_status_check"),
            models.Index(fields=("status", "lease_expires_at"), name="sms_sending_lease"),
            # The history and the admin list, newest first, whole or by status or recipient:
            # each reads its page from an index in order instead of sorting the table
            # (docs/scale.md has the plans; bench/history_bench.py measures them).
            models.Index(fields=("created_at", "id"), name="sms_history"),
            models.Index(fields=("status", "created_at", "id"), name="sms_history_by_status"),
            models.Index(fields=("to_number", "created_at", "id"), name="sms_history_by_recipient"),
            # "5550101" typed into the history's recipient filter is a substring search, which
            # a b-tree cannot answer: trigrams can (pg_trgm, created by migration 0005).
            GinIndex(
                fields=("to_number",), name="sms_recipient_digits", opclasses=["gin_trgm_ops"]
            ),
            # The admin's sender filter lists the distinct numbers by walking this index.
            models.Index(fields=("from_number",), name="sms_by_sending_number"),
        )
        permissions = (("send_sms", "Can send text messages"),)

    def __str__(self) -> str:
        return f"SMS #{self.pk} to {self.to_number} ({self.status})"

    @property
    def terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def can_cancel(self) -> bool:
        return self.status in self.CANCELABLE

    @property
    def can_retry(self) -> bool:
        """The status allows "Send again"; the failure may still forbid it (an opt-out, an
        invalid number: services.messages.resend_refusal)."""
        return self.status in self.RETRYABLE


class MessageEvent(models.Model):
    """What happened to a message, in order. Rows are only ever added."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=Message.Status.choices)
    description = models.TextField()
    error_code = models.CharField(max_length=40, blank=True)
    # The key of the staff action (a "Send again" POST) that added this event: the same POST
    # repeated finds it and does nothing twice.
    action_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=("message", "action_key"),
                condition=~models.Q(action_key=""),
                name="sms_action_once",
            ),
        )

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.status}: {self.description}"


class UserPreferences(models.Model):
    """A person's own settings for these pages."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_preferences"
    )
    # An IANA zone name ("America/New_York"); empty: the browser's (smsapp.middleware). Wins
    # over the browser for someone whose computer's clock is set to another zone than the
    # one they work in.
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class OptOut(models.Model):
    """A person who asked for no more texts from one of our numbers: the current state, one row
    per pair. Texts to them are refused where they are created (services.optouts)."""

    class Source(models.TextChoices):
        KEYWORD = "keyword", "texted a keyword (STOP / START)"
        DELIVERY_ERROR = "delivery_error", "RingCentral refused a text (*-413)"
        STAFF = "staff", "staff"
        RINGCENTRAL = "ringcentral", "RingCentral's consent list"

    # Every sender number of the RingCentral account: its consent records may say "from": "*"
    # (docs/ringcentral.md#opt-out). Kept as such rather than copied onto SMS_FROM_NUMBER, so a
    # change of that setting cannot lift an account-wide opt-out.
    EVERY_NUMBER = "*"

    our_number = models.CharField(max_length=20, help_text='E.164, or "*": every number')
    their_number = models.CharField(max_length=20, help_text="E.164")
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.TextField(blank=True)
    # The outbound text whose *-413 outcome recorded it (source delivery_error).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The inbound text that caused it (source keyword): RingCentral's id and its words ("Stop.").
    inbound_id = models.CharField(max_length=40, blank=True)
    inbound_text = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "opt-out"
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(fields=("our_number", "their_number"), name="sms_optout_pair"),
        )
        # The check at every send asks by recipient (their_number, then our_number).
        indexes = (models.Index(fields=("their_number", "our_number"), name="sms_optout_theirs"),)
        # No add/change/delete: every change goes through services.optouts (history, canceled
        # texts, RingCentral told), under one permission.
        default_permissions = ("view",)
        permissions = (("manage_optouts", "Can add and remove opt-outs"),)

    def __str__(self) -> str:
        return f"{self.their_number} opted out of {self.our_number}"


class OptOutChange(models.Model):
    """Every opt-out and opt-in, in order, with who or what caused it: a removed opt-out's
    reason stays here. Rows are only added; only `push` moves, as RingCentral is told."""

    class Action(models.TextChoices):
        OPTED_OUT = "opted_out", "opted out"
        OPTED_IN = "opted_in", "opted in"

    class Push(models.TextChoices):
        NOT_NEEDED = "", "not needed"
        PENDING = "pending", "waiting to be sent to RingCentral"
        DONE = "done", "sent to RingCentral"
        FAILED = "failed", "refused by RingCentral"

    our_number = models.CharField(max_length=20)
    their_number = models.CharField(max_length=20)
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=16, choices=OptOut.Source.choices)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(auto_now_add=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inbound_id = models.CharField(max_length=40, blank=True)
    inbound_text = models.TextField(blank=True)
    # Whether RingCentral's consent list must hear of it (staff changes: services.optouts).
    push = models.CharField(max_length=8, choices=Push.choices, blank=True, default="")

    class Meta:
        verbose_name = "opt-out change"
        ordering = ("-at", "-id")
        default_permissions = ("view",)
        indexes = (
            models.Index(fields=("their_number", "at"), name="sms_optout_history"),
            models.Index(
                fields=("push",), name="sms_optout_push", condition=models.Q(push="pending")
            ),
        )

    def __str__(self) -> str:
        return f"{self.their_number} {self.get_action_display()} ({self.our_number})"
