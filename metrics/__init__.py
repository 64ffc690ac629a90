"""Prometheus metrics: event counters recorded where things happen (metrics.definitions), facts
read at scrape time (metrics.collectors), and the protected /metrics endpoint. docs/metrics.md
lists every metric."""
