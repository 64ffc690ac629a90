"""Conversations (our number, their number), the texts that came in, and how they come in."""

from __future__ import annotations

from django.db import models


class Conversation(models.Model):
    """Everything between one of our numbers and one contact. Outbound texts stay
    smsapp.Message rows (matched by from/to number); what the list page needs is kept here,
    so it never has to search the message table for the latest text of each contact."""

    class Direction(models.TextChoices):
        INBOUND = "in", "received"
        OUTBOUND = "out", "sent"

    our_number = models.CharField(max_length=20, help_text="E.164")
    their_number = models.CharField(max_length=20, help_text="E.164")
    last_activity_at = models.DateTimeField()
    last_text = models.CharField(max_length=200, blank=True)
    last_direction = models.CharField(max_length=3, choices=Direction.choices)
    # Inbound texts nobody has looked at: raised with each new one (F() under the row lock),
    # zeroed when a person opens the thread or marks it read.
    unread_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-last_activity_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("our_number", "their_number"), name="conversation_one_per_pair"
            ),
        )
        indexes = (models.Index(fields=("-last_activity_at", "-id"), name="conversation_newest"),)

    def __str__(self) -> str:
        return f"{self.their_number} ↔ {self.our_number}"


class InboundText(models.Model):
    """A text someone sent to one of our numbers, stored once per RingCentral message id
    however many times a webhook or the message sync reports it."""

    class Via(models.TextChoices):
        SYNC = "sync", "message sync"
        WEBHOOK = "webhook", "webhook"

    class Keyword(models.TextChoices):
        NONE = "", "none"
        OPT_OUT = "opt_out", "opted out"
        OPT_IN = "opt_in", "opted back in"

    # RingCentral's message id (an int64, given as a string in webhook bodies).
    ringcentral_id = models.CharField(max_length=40, unique=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="inbound")
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20)
    text = models.TextField(blank=True)
    received_at = models.DateTimeField(help_text="RingCentral's creationTime")
    stored_at = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    keyword = models.CharField(max_length=8, choices=Keyword.choices, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("received_at", "id")
        indexes = (
            models.Index(fields=("conversation", "received_at", "id"), name="inbound_thread"),
        )

    def __str__(self) -> str:
        return f"Text from {self.from_number} ({self.ringcentral_id})"


class MessageSyncState(models.Model):
    """Where RingCentral's message sync left off (one row: the app has one extension)."""

    sync_token = models.TextField(blank=True)
    # RingCentral's syncTime of the last answer: a new full sync (after MSG-333) starts from
    # here, so texts that arrived while the token was being replaced are not skipped.
    synced_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    full_syncs = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return "Message sync"


class WebhookSubscription(models.Model):
    """The app's RingCentral webhook subscription for inbound texts (one row)."""

    address = models.URLField(max_length=500)
    subscription_id = models.CharField(max_length=80, blank=True)
    # SHA-256 of the verification token sent at creation: enough to check a notification's
    # header, and a leaked database row does not let anyone post texts to us.
    token_digest = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, blank=True, help_text="RingCentral's status")
    expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_notification_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Webhook {self.subscription_id or '(not created)'}: {self.status or 'none'}"


class WebhookNotification(models.Model):
    """Notification uuids already handled: RingCentral's retry policy is not documented, so
    a delivery may come again (docs/ringcentral.md#inbound-texts). Kept for a week."""

    uuid = models.CharField(max_length=80, unique=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"Notification {self.uuid}"
