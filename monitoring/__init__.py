"""Operators' view of the fleet: the dashboard (charts of the last days) and alert emails."""
