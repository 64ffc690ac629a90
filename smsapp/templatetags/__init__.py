"""Template tags and filters of the smsapp pages."""
