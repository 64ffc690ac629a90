"""Signals other apps listen to: what the outbound pipeline tells them as it happens."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by services.messages.message_submit with `messages=[Message, ...]` (saved, with their
# ids) right after it created them, once per submission (never for a repeat of one).
#
# Receivers run INSIDE message_submit's transaction: whatever they write commits or rolls back
# with the texts, and an exception in one undoes the whole submission. So a receiver does
# database work only, quickly (every send waits for it), and never a network call: a call
# to RingCentral or anything else belongs in a task queued with transaction.on_commit.
# (The conversations app bumps its conversation rows here.)
messages_created = Signal()
