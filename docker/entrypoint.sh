#!/bin/sh
# Every container of the image starts here (Dockerfile ENTRYPOINT), then runs its command.
#
# Metrics (docs/metrics.md): a process group (web, worker) counts in its own directory,
# PROMETHEUS_MULTIPROC_DIR, inside the volume they share; /metrics adds the groups up. The
# directory is emptied here, before any process of the group starts: files left by processes
# of a previous start would otherwise be added to the new ones' counts, or share their PIDs.
# "{hostname}" in the value becomes this container's host name: one group per container when
# a service is scaled (docker compose up --scale worker=3).
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    PROMETHEUS_MULTIPROC_DIR=$(printf '%s' "$PROMETHEUS_MULTIPROC_DIR" | sed "s/{hostname}/$(hostname)/g")
    export PROMETHEUS_MULTIPROC_DIR
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"
