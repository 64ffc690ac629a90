"""Recurring sends (a text, its recipients and a rule) and each time one fired (Occurrence)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from recurring import rules


class RecurringSend(models.Model):
    """The same text to the same numbers on a rule, at a local time that keeps across daylight
    saving (recurring/rules.py). Each time it fires becomes ordinary texts (Occurrence)."""

    class Kind(models.TextChoices):
        DAILY = rules.DAILY, "every day"
        WEEKDAYS = rules.WEEKDAYS, "every weekday (Mon to Fri)"
        WEEKLY = rules.WEEKLY, "every week, on chosen days"
        MONTHLY = rules.MONTHLY, "every month, on a day"
        RRULE = rules.RRULE, "an RFC 5545 RRULE"

    name = models.CharField(max_length=100)
    # E.164 numbers, in the order given. JSON rather than a PostgreSQL array: ./scripts/run
    # works on SQLite.
    to_numbers = models.JSONField(default=list)
    # What is sent, a copy: a template it started from (below) is only where it came from, so
    # an edit of the template for a bulk send never changes a standing reminder unseen.
    text = models.TextField()
    template = models.ForeignKey(
        "campaigns.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    weekdays = models.JSONField(default=list, blank=True, help_text="0 = Monday (weekly rules)")
    month_day = models.PositiveSmallIntegerField(null=True, blank=True)
    rrule = models.CharField(max_length=500, blank=True)
    time_of_day = models.TimeField()
    time_zone = models.CharField(max_length=64, help_text="An IANA name: America/New_York")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="The last day it may fire")
    paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The materialiser's cursor: the first occurrence not handled yet (UTC); null once the rule
    # has ended. Set from now on create, edit and resume; moved on by the materialiser only.
    next_occurrence_at = models.DateTimeField(null=True, blank=True)
    # The creating form's idempotency key: the same form posted twice (a double click, a POST
    # the browser repeats) makes one recurring send, not two that each text everyone.
    creation_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("name", "id")
        indexes = (models.Index(fields=("paused", "next_occurrence_at"), name="recurring_due"),)
        constraints = (
            models.UniqueConstraint(
                fields=("creation_key",),
                condition=~models.Q(creation_key=""),
                name="recurring_one_per_creation_key",
            ),
        )

    def __str__(self) -> str:
        return self.name

    def spec(self) -> rules.RuleSpec:
        return rules.RuleSpec(
            kind=self.kind,
            time_of_day=self.time_of_day,
            time_zone=self.time_zone,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            weekdays=tuple(self.weekdays or ()),
            month_day=self.month_day,
            rrule=self.rrule,
        )

    @property
    def rule_text(self) -> str:
        return rules.describe(self.spec())


class Occurrence(models.Model):
    """One time a recurring send fired: its texts created, or why none were."""

    class Status(models.TextChoices):
        CREATED = "created", "texts created"
        # Its time passed while no materialiser ran (SMS_RECURRING_MISSED_GRACE_SECONDS).
        SKIPPED = "skipped", "missed: not sent"
        FAILED = "failed", "not sent"

    recurring_send = models.ForeignKey(
        RecurringSend, on_delete=models.CASCADE, related_name="occurrences"
    )
    occurs_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=500, blank=True)
    # The texts' submission key (smsapp Message.submission_key): how they are found, and what
    # keeps them to one set even if this row were written twice.
    submission_key = models.CharField(max_length=64, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-occurs_at", "-id")
        constraints = (
            # Exactly once per rule and time, whoever materialises it (two beats, a retry).
            models.UniqueConstraint(
                fields=("recurring_send", "occurs_at"), name="recurring_one_per_occurrence"
            ),
        )

    def __str__(self) -> str:
        return f"{self.recurring_send} at {self.occurs_at:%Y-%m-%d %H:%M} UTC ({self.status})"
