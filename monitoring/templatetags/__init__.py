"""Template tags of the monitoring pages."""
