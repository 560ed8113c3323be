"""Module boundaries: imports point one way and each third-party library stays in its stage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tool" / "xlcheck"
MODULES = {
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
    for path in PACKAGE.rglob("*.py")
}

#: Which modules may import each third-party library (module names without the package).
THIRD_PARTY_HOMES = {
    "click": {"cli", "cli_options", "cli_report", "cli_tables"},
    "xlsxwriter": {"template_writer", "exchange.summary_workbook"},
    # The reader reads no workbook with openpyxl (values: calamine; formulas: sheet_xml).
    "openpyxl": {"exchange.worker_pool"},
    # Values are read with calamine directly (see sheet_values); pandas shapes tables.
    "pandas": {"exchange.collect"},
    "python_calamine": {"sheet_values", "exchange.worker_pool"},
    "yaml": {"spec_loading"},
    "docx": {
        "narrative.word_writer",
        "narrative.word_comments",
        "narrative.report_text",
    },
    "pypdf": {"narrative.report_text"},
    "defusedxml": {"package_xml"},
}
#: Modules that import nothing else from xlcheck (the bottom of the dependency graph).
LEAVES = {"xlcheck.findings", "xlcheck.errors", "xlcheck.records"}
#: What a leaf may import of xlcheck: how records are declared, which imports nothing itself.
LEAF_MAY_IMPORT = {"xlcheck.records"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from xlcheck import api` imports the module xlcheck.api (the package xlcheck is
            # then already imported); `from xlcheck.layout import Layout` imports xlcheck.layout.
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            names.update(submodules & MODULES.keys())
            if not submodules <= MODULES.keys():
                names.add(node.module)
    return names


@pytest.mark.parametrize("library", sorted(THIRD_PARTY_HOMES))
def test_third_party_library_stays_in_its_stage(library: str) -> None:
    users = {
        name.removeprefix("xlcheck.").removeprefix("xlcheck")
        for name, path in MODULES.items()
        if any(i == library or i.startswith(f"{library}.") for i in _imports(path))
    }
    assert users <= THIRD_PARTY_HOMES[library], (
        f"{library} imported outside its stage: {users - THIRD_PARTY_HOMES[library]}"
    )


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_findings_and_errors_import_nothing_from_xlcheck(leaf: str) -> None:
    own = {i for i in _imports(MODULES[leaf]) if i == "xlcheck" or i.startswith("xlcheck.")}
    assert own <= LEAF_MAY_IMPORT - {leaf}


def test_only_the_entry_points_import_the_cli() -> None:
    users = {name for name, path in MODULES.items() if "xlcheck.cli" in _imports(path)}
    assert users <= {"xlcheck.__main__"}


def _own_imports(path: Path) -> set[str]:
    """The xlcheck modules a module imports, wherever in it (inside functions too)."""
    return {name for name in _imports(path) if name in MODULES}


def _cycle() -> list[str] | None:
    """One import cycle among xlcheck's modules, or None."""
    graph = {name: _own_imports(path) - {name} for name, path in MODULES.items()}
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        trail.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return [*trail[trail.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        trail.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_imports_form_no_cycle() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_stages_do_not_import_the_api() -> None:
    users = {name for name, path in MODULES.items() if "xlcheck.api" in _imports(path)}
    assert users <= {"xlcheck", "xlcheck.cli", "xlcheck.cli_report", "xlcheck.cli_tables"}


def test_no_grab_bag_modules() -> None:
    assert not {"utils", "helpers", "common", "misc"} & {p.stem for p in PACKAGE.rglob("*.py")}


def test_help_does_not_import_heavy_libraries() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from click.testing import CliRunner; from xlcheck.cli import cli; "
        "CliRunner().invoke(cli, ['--help']); "
        "print(sorted(m for m in ('pandas', 'openpyxl', 'xlsxwriter', 'yaml', 'numpy') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"
