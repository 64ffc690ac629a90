"""Who may import whom (docs/architecture.md): bench/ and harness/ never import tests/, and the
apps and the simulator never import bench/, harness/ or tests/."""

from __future__ import annotations

import ast

import pytest

from tests.support.processes import PROJECT_ROOT


def _imported_packages(folder: str) -> dict[str, set[str]]:
    """{file: the top-level packages it imports} for every Python file under `folder`."""
    found = {}
    for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(PROJECT_ROOT))] = names
    return found


def _offenders(folder: str, forbidden: set[str]) -> list[str]:
    files = _imported_packages(folder)
    assert files, f"no Python files under {folder}/"  # a renamed folder must not pass vacuously
    return [
        f"{path}: {sorted(names & forbidden)}" for path, names in files.items() if names & forbidden
    ]


@pytest.mark.parametrize("folder", ["bench", "harness"])
def test_benchmarks_and_the_race_harness_never_import_test_code(folder):
    assert _offenders(folder, {"tests"}) == []


APPS = ["smsapp", "auth_tokens", "conversations", "campaigns", "recurring", "monitoring", "metrics"]


@pytest.mark.parametrize("folder", [*APPS, "ringcentral_sim"])
def test_the_apps_and_the_simulator_never_import_tooling_or_tests(folder):
    assert _offenders(folder, {"tests", "bench", "harness"}) == []


@pytest.mark.parametrize("folder", [app for app in APPS if app != "auth_tokens"])
def test_other_apps_reach_auth_tokens_only_through_its_api(folder):
    """auth_tokens.api is its public surface (docs/architecture.md): the token row's internals
    change without the rest of the project noticing."""
    offenders = []
    for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                module = node.module
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                module, names = "", [alias.name for alias in node.names]
            else:
                continue
            reached = [f"{module}.{n}" if module else n for n in names]
            for name in reached:
                if name.startswith("auth_tokens.") and not name.startswith("auth_tokens.api"):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}: {name}")
    assert offenders == []
