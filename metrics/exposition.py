"""What /metrics answers: every process group's counters, plus the gauges read now.

With multiprocess mode on (settings.METRICS_DIR: the shared directory, one subdirectory per
process group: web, worker, ...), each group's files are added up on their own and their
samples labelled `process_group`. One group restarting (its directory cleaned, its counters
back to zero) is then a reset of its own series, which Prometheus's rate() and increase()
handle; a single sum over all groups would drop instead and read as a burst. Without it (a
plain runserver, the tests' own process), this process's registry is the answer.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from metrics.collectors import DatabaseCollector


class ProcessGroupsCollector(Collector):
    """Every subdirectory of `root` is one process group's PROMETHEUS_MULTIPROC_DIR."""

    def __init__(self, root: str) -> None:
        self.root = root

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for directory in sorted(glob.glob(os.path.join(self.root, "*", ""))):
            group = os.path.basename(os.path.dirname(directory))
            files = glob.glob(os.path.join(directory, "*.db"))
            for metric in MultiProcessCollector.merge(files, accumulate=True):
                family = merged.setdefault(
                    metric.name, Metric(metric.name, metric.documentation, metric.type)
                )
                family.samples.extend(_labelled(metric.samples, group))
        yield from merged.values()


def _labelled(samples: Iterable[Sample], group: str) -> list[Sample]:
    return [
        Sample(s.name, {**s.labels, "process_group": group}, s.value, s.timestamp, s.exemplar)
        for s in samples
    ]


class _ThisProcess(Collector):
    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def exposition(metrics_dir: str) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if metrics_dir:
        registry.register(ProcessGroupsCollector(metrics_dir))
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return generate_latest(registry)
