"""Inbound texts and conversations: one pipeline for replies from webhooks and message sync."""
