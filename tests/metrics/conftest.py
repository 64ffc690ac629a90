"""Reading /metrics as Prometheus does: the endpoint with its token, parsed into samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-test-token-5b1f0c"


@dataclass
class Scrape:
    """One answer of /metrics: every sample, and the families' names and types."""

    samples: list[tuple[str, dict[str, str], float]]
    families: dict[str, str]

    def value(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels` (over process groups)."""
        found = [
            value
            for sample, sample_labels, value in self.samples
            if sample == name and labels.items() <= sample_labels.items()
        ]
        return sum(found)

    def has(self, name: str, **labels: str) -> bool:
        return any(
            sample == name and labels.items() <= sample_labels.items()
            for sample, sample_labels, _ in self.samples
        )


def scrape(client) -> Scrape:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    samples, families = [], {}
    for family in text_string_to_metric_families(response.content.decode()):
        families[family.name] = family.type
        samples += [(s.name, dict(s.labels), s.value) for s in family.samples]
    return Scrape(samples, families)


@pytest.fixture
def metrics_settings(settings, tmp_path) -> Path:
    """/metrics on with TOKEN, reading the process groups under a fresh shared directory; a
    worker writes to metrics_dir / "worker" (worker_env)."""
    root = tmp_path / "metrics"
    root.mkdir()
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_DIR = str(root)
    return root
