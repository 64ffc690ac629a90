"""Who may do what: sending texts (with its group), and managing opt-outs."""

from __future__ import annotations

# Composing, canceling and retrying a text all decide whether someone gets one: one right for
# all three (Message.Meta.permissions), not the admin's "change message".
SEND_PERMISSION = "smsapp.send_sms"
# The group that grants SEND_PERMISSION. Migration 0002 created it under this name and keeps
# its own literal (a migration is frozen history): renaming the group needs a new migration.
STAFF_SENDERS_GROUP = "Staff senders"
# Adding and removing opt-outs (OptOut.Meta.permissions): removing one lets texts reach
# someone who asked for none, so it is its own right, not "send" or the admin's "change".
MANAGE_OPTOUTS_PERMISSION = "smsapp.manage_optouts"
