"""metrics.definitions stays a leaf every app may import, auth_tokens included."""

from __future__ import annotations

import ast

from tests.support.processes import PROJECT_ROOT

ALLOWED = {"__future__", "logging", "os", "collections", "functools", "typing", "prometheus_client"}


def test_the_definitions_import_nothing_of_the_project():
    tree = ast.parse((PROJECT_ROOT / "metrics" / "definitions.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= ALLOWED
