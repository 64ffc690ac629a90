"""Who may send texts: the permission the pages, the admin and the banner check, and its group."""

from __future__ import annotations

# Composing, canceling and retrying a text all decide whether someone gets one: one right for
# all three (Message.Meta.permissions), not the admin's "change message".
SEND_PERMISSION = "smsapp.send_sms"
# The group that grants SEND_PERMISSION. Migration 0002 created it under this name and keeps
# its own literal (a migration is frozen history): renaming the group needs a new migration.
STAFF_SENDERS_GROUP = "Staff senders"
