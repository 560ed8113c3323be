"""Start-up is a feature: what a command imports, pinned in a fresh interpreter.

Each case runs ``xlcheck`` in its own process and lists the modules loaded by the time it ends.
Add a case per command worth pinning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import xlcheck
from tests.conftest import EXAMPLES

#: Runs xlcheck's entry point with argv[2:]; on exit writes the loaded modules to argv[1].
_PROBE = """
import atexit, json, sys
from xlcheck.cli import main
out, sys.argv = sys.argv[1], ["xlcheck", *sys.argv[2:]]

def write_modules():
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(sorted(sys.modules), handle)

atexit.register(write_modules)  # main() may leave through os._exit after the exit handlers
main()
"""
#: Never loaded by a single verification or by --help: numpy and pandas (collect only), openpyxl
#: (the annotator), xlsxwriter (templates), the mail modules and multiprocessing (batches).
HEAVY = frozenset(
    {"numpy", "pandas", "openpyxl", "xlsxwriter", "lxml", "email", "multiprocessing", "mailbox"}
)


@dataclass(frozen=True)
class StartUp:
    arguments: tuple[str, ...]
    #: Top-level modules that must not be loaded.
    forbidden: frozenset[str]
    #: When given, exactly the xlcheck modules loaded.
    xlcheck_modules: frozenset[str] | None = None


CASES = {
    "help": StartUp(
        ("--help",),
        HEAVY | {"python_calamine", "yaml", "defusedxml", "concurrent"},
        frozenset(
            {
                "xlcheck",
                "xlcheck.cli",
                "xlcheck.cli_options",
                "xlcheck.cli_report",
                "xlcheck.cli_tables",
                "xlcheck.control_characters",
                "xlcheck.errors",
                "xlcheck.version",
            }
        ),
    ),
    "verify-no-annotate": StartUp(
        ("verify", "--no-annotate", str(EXAMPLES / "zhanjiang-xinfang-2023.xlsx")), HEAVY
    ),
    # The annotated copy is made at the package level: no openpyxl, no xlsxwriter.
    "verify-annotate": StartUp(
        ("verify", "-o", "{tmp}/copy.xlsx", str(EXAMPLES / "zhanjiang-xinfang-2023.xlsx")), HEAVY
    ),
}


def _modules(arguments: tuple[str, ...], tmp_path: Path) -> set[str]:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *(a.format(tmp=tmp_path) for a in arguments)],
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(xlcheck.__file__).parent.parent)},
    )
    return set(json.loads(out.read_text(encoding="utf-8")))


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_start_up_imports_only_what_the_command_uses(case: str, tmp_path: Path) -> None:
    expected = CASES[case]
    loaded = _modules(expected.arguments, tmp_path)
    assert {m.split(".")[0] for m in loaded} & expected.forbidden == set()
    if expected.xlcheck_modules is not None:
        assert {m for m in loaded if m.split(".")[0] == "xlcheck"} == expected.xlcheck_modules
    if "{tmp}/copy.xlsx" in expected.arguments:
        assert (tmp_path / "copy.xlsx").stat().st_size > 0  # the command did its work


def test_public_names_import_on_first_use() -> None:
    """``xlcheck`` imports no API module itself (PEP 562), yet every public name resolves."""
    probe = (
        "import sys, xlcheck; before = {m for m in sys.modules if m.startswith('xlcheck.')}; "
        "names = [getattr(xlcheck, n) for n in xlcheck.__all__]; "
        "print(sorted(before), len(names), 'verify_workbook' in dir(xlcheck))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(xlcheck.__file__).parent.parent)},
    )
    assert completed.stdout.split() == ["[]", str(len(xlcheck.__all__)), "True"]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = xlcheck.nothing


def test_verify_with_a_cached_spec_imports_no_yaml(tmp_path: Path) -> None:
    """The second verification with a spec reads it from the cache: no YAML library loaded."""
    arguments = ("verify", "--no-annotate", str(EXAMPLES / "zhanjiang-xinfang-2023.xlsx"))
    _modules(arguments, tmp_path)  # fills the cache (the session's own folder, see conftest)
    loaded = _modules(arguments, tmp_path)
    assert "xlcheck.spec_cache" in loaded
    assert "yaml" not in {m.split(".")[0] for m in loaded}
