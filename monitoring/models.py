"""One row per alert condition: when its email last went out, so each goes at most once an hour
across every host that runs the check (monitoring.services.alerts)."""

from __future__ import annotations

from django.db import models


class AlertState(models.Model):
    # A condition's key (monitoring.services.alerts.CONDITIONS): created on its first check.
    condition = models.CharField(max_length=40, unique=True)
    # Set when an email went out; the next one for this condition waits an hour from here.
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # A checker that claimed the condition sends until then: a checker that crashed between
    # the claim and the send holds it no longer than this, and the next check sends.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When the condition last held, and what the last email said (no secret ever reaches it).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_subject = models.CharField(max_length=200, blank=True)
    sent_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "alert"
        ordering = ("condition",)
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.condition
