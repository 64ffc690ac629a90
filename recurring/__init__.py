"""Recurring sends: the same text on a rule ("every weekday at 9:00"), each time created as
ordinary scheduled texts by the materialiser beat runs beside the dispatcher."""
