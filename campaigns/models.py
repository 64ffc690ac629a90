"""Saved texts (templates), bulk sends with one row per CSV line, and A2P batches."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Template(models.Model):
    """A saved text; `{placeholders}` name CSV columns ({first_name} for "First name")."""

    name = models.CharField(max_length=100, unique=True)
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        permissions = (("manage_templates", "Can add, change and delete text templates"),)

    def __str__(self) -> str:
        return self.name


class BulkSend(models.Model):
    """One uploaded list and its text: previewed, then confirmed, then fed to RingCentral."""

    class Status(models.TextChoices):
        DRAFT = "draft", "not confirmed yet"
        SCHEDULED = "scheduled", "scheduled"
        RUNNING = "running", "sending"
        PAUSED = "paused", "paused"
        CANCELED = "canceled", "canceled"
        DONE = "done", "every line handed over"

    class Via(models.TextChoices):
        PIPELINE = "pipeline", "one text at a time (the standard SMS API)"
        A2P = "a2p", "RingCentral's high-volume batches (A2P)"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    file_name = models.CharField(max_length=255, blank=True)
    text = models.TextField(help_text="With {placeholders} for the CSV's columns")
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="bulk_sends"
    )
    # The CSV's header, as written, and the column the numbers were read from.
    columns = models.JSONField(default=list)
    phone_column = models.CharField(max_length=200)
    via = models.CharField(max_length=10, choices=Via.choices)
    from_number = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    send_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Counted once at upload: every line, the ones that will be sent, and their segments.
    row_count = models.PositiveIntegerField(default=0)
    valid_count = models.PositiveIntegerField(default=0)
    segment_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("status", "send_at"), name="bulk_due"),)

    def __str__(self) -> str:
        return f"Bulk send #{self.pk} ({self.file_name or 'list'})"


class A2PBatch(models.Model):
    """One request to RingCentral's a2p-sms/batches: its rows, its claim and what came back.
    docs/a2p.md has the exactly-once rules it follows."""

    class Status(models.TextChoices):
        SENDING = "sending", "being sent"
        # No answer after the request left: looked up in RingCentral's batch list before
        # anything is sent again.
        UNCERTAIN = "uncertain", "checking whether RingCentral has it"
        ACCEPTED = "accepted", "accepted by RingCentral"
        FAILED = "failed", "refused by RingCentral"

    bulk = models.ForeignKey(BulkSend, on_delete=models.CASCADE, related_name="batches")
    from_number = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    size = models.PositiveIntegerField()
    ringcentral_id = models.CharField(max_length=64, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    attempt_ended_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Statuses are read from a2p-sms/messages?batchId= until every row has its final one.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    polls_done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        indexes = (models.Index(fields=("status", "next_poll_at"), name="a2p_batch_due"),)

    def __str__(self) -> str:
        return f"A2P batch #{self.pk} ({self.size} texts, {self.status})"


class BulkRecipient(models.Model):
    """One line of the CSV: the number and words it becomes, or why it is not sent."""

    class Status(models.TextChoices):
        SKIPPED = "skipped", "not sent"
        PENDING = "pending", "waiting"
        # Through the pipeline: a Message exists, whose status is the row's from then on.
        MESSAGE = "message", "in the send queue"
        # Through A2P: in a batch, then RingCentral's per-message status.
        BATCHED = "batched", "in a batch"
        QUEUED = "queued", "queued at RingCentral"
        SENT = "sent", "sent"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"
        REJECTED = "rejected", "refused by RingCentral"
        CANCELED = "canceled", "canceled"

    bulk = models.ForeignKey(BulkSend, on_delete=models.CASCADE, related_name="recipients")
    line = models.PositiveIntegerField(help_text="Line in the file (the header is line 1)")
    raw_number = models.CharField(max_length=100, blank=True)
    number = models.CharField(max_length=20, blank=True, help_text="E.164")
    fields = models.JSONField(default=dict)
    text = models.TextField(blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    skip_reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    message = models.ForeignKey(
        "smsapp.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch = models.ForeignKey(
        A2PBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="recipients"
    )
    ringcentral_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("bulk", "line")
        indexes = (
            models.Index(fields=("bulk", "status", "line"), name="bulk_rows_by_status"),
            models.Index(fields=("bulk", "line"), name="bulk_rows_in_order"),
            models.Index(fields=("batch", "number"), name="bulk_rows_by_batch"),
        )

    def __str__(self) -> str:
        return f"Line {self.line}: {self.number or self.raw_number} ({self.status})"
