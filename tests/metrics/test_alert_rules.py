"""docs/prometheus and docs/metrics.md name only metrics that exist, and document them all: a
typo in an alert rule would make it silently never fire."""

from __future__ import annotations

import re

import pytest
import yaml

from auth_tokens.api import get_access_token
from tests.metrics.conftest import scrape

pytestmark = pytest.mark.django_db
METRIC_NAME = re.compile(r"\bsmsapp_[a-z0-9_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


@pytest.fixture
def exposed(client, metrics_settings, rc_settings, clean_redis, settings) -> set[str]:
    """Every sample name /metrics can show: this process's registry (every event metric,
    with or without samples yet) and every gauge, with a token stored so none is left out."""
    settings.METRICS_DIR = ""
    get_access_token()
    families = scrape(client).families
    return {
        f"{name}{suffix}"
        for name, kind in families.items()
        # *_created: this process's registry shows when each counter began; multiprocess
        # mode (every real deployment) does not, and nothing should rely on it.
        if name.startswith("smsapp_") and not name.endswith("_created")
        for suffix in SUFFIXES[kind]
    }


def _rule_names(project_root) -> set[str]:
    rules = yaml.safe_load((project_root / "docs/prometheus/alerts.yml").read_text())
    names = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            names |= set(METRIC_NAME.findall(rule["expr"]))
            for text in rule.get("annotations", {}).values():
                names |= set(METRIC_NAME.findall(text))
    return names


def test_every_metric_an_alert_rule_names_exists(project_root, exposed):
    named = _rule_names(project_root)
    # The four alerts the runbook promises, at least.
    assert {
        "smsapp_token_blocked",
        "smsapp_token_refresh_expires_in_seconds",
        "smsapp_oldest_queued_text_age_seconds",
        "smsapp_ringcentral_rate_limited_total",
    } <= named
    assert named - exposed == set()


def test_every_exposed_metric_is_documented(project_root, exposed):
    documented = set(METRIC_NAME.findall((project_root / "docs/metrics.md").read_text()))
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in exposed}
    missing = {
        name for name in families if name not in documented and f"{name}_total" not in documented
    }
    assert missing == set()
    assert documented - exposed - families == set()  # no documented metric that is not there


def test_the_sample_scrape_config_sends_the_bearer_token(project_root):
    config = yaml.safe_load((project_root / "docs/prometheus/prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert "alerts.yml" in config["rule_files"]
