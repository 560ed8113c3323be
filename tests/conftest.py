"""Shared fixtures: templates written by xlcheck and filled with openpyxl, the seed's values."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlcheck import load_prefill, write_template
from xlcheck.layout import Layout, lay_out
from xlcheck.spec_loading import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEED_VALUES = EXAMPLES / "zhanjiang-xinfang-2023.json"
#: Real files from other apps, kept outside the repository; XLCHECK_SHARED_SAMPLES points elsewhere
#: (a CI checkout without ../shared, or a check that their tests skip with a reason).
SHARED_SAMPLES = Path(
    os.environ.get("XLCHECK_SHARED_SAMPLES", ROOT.parent / "shared" / "samples" / "clients")
)
SHARED_ABSENT = f"real client samples not present at {SHARED_SAMPLES} (../shared is not checked in)"

FillWorkbook = Callable[..., Path]


def shared_sample_params() -> list[Any]:
    """One parameter per client sample; without ../shared, one that skips saying why, so the
    tests show up as skipped instead of dropping out of the count."""
    if not SHARED_SAMPLES.is_dir():
        return [
            pytest.param(None, id="samples-absent", marks=pytest.mark.skip(reason=SHARED_ABSENT))
        ]
    return [pytest.param(path, id=path.stem) for path in sorted(SHARED_SAMPLES.glob("*.xlsx"))]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/cases/*/expected.json"
    )


def pytest_report_header() -> str:
    if SHARED_SAMPLES.is_dir():
        return f"client samples: {len(list(SHARED_SAMPLES.glob('*.xlsx')))} in {SHARED_SAMPLES}"
    return f"client samples: ABSENT at {SHARED_SAMPLES}; the tests on them are skipped"


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def seed_values() -> dict[str, Any]:
    """The seed report's numbers by field key (the shipped example's pre-fill data), typed as
    ``template --data`` types them (the date as a date)."""
    return dict(load_prefill(SEED_VALUES, load_spec("zhanjiang-overall")).values)


def correct_seed_values() -> dict[str, Any]:
    """The seed's numbers with scores that stay within their weights (total 100)."""
    values = seed_values()
    values["score.petition_handling"] = 5
    return values


def fill_cells(
    path: Path,
    values: Mapping[str, Any],
    *,
    template: str = "zhanjiang-overall",
    cells: Mapping[str, Any] | None = None,
    layout: Layout | None = None,
) -> Path:
    """Write values into a workbook with openpyxl, as a unit filling it by hand would.

    Args:
        values: field key → value, written to that field's cell (over a formula too).
        cells: ``"Sheet!B7"`` → value, for cells that are not fields.
        layout: the workbook's layout when it has a sheet per project (``Prefill.layout``).
    """
    layout = layout or lay_out(load_spec(template))
    book = openpyxl.load_workbook(path)
    for key, value in values.items():
        placed = layout.by_key[key]
        book[placed.sheet].cell(placed.row_number, placed.column_number).value = value
    for address, value in (cells or {}).items():
        sheet, cell = address.rsplit("!", 1)
        book[sheet][cell].value = value
    book.save(path)
    return path


@pytest.fixture
def make_workbook(tmp_path: Path) -> FillWorkbook:
    """Factory: a template written by xlcheck, then filled with openpyxl.

    ``make_workbook(values, name=..., overrides={key: value}, cells={"数据表!B5": ...})``:
    ``values`` go through ``template --data`` style pre-fill is NOT used here on purpose: the
    values are typed into the cells with openpyxl, the way a unit's edits arrive.
    """

    def make(
        values: Mapping[str, Any] | None = None,
        *,
        name: str = "filled.xlsx",
        overrides: Mapping[str, Any] | None = None,
        cells: Mapping[str, Any] | None = None,
        template: str = "zhanjiang-overall",
    ) -> Path:
        path = tmp_path / name
        write_template(path, template=template, force=True)
        merged = {**(correct_seed_values() if values is None else values), **(overrides or {})}
        return fill_cells(path, merged, template=template, cells=cells)

    return make


@pytest.fixture(scope="session", autouse=True)
def private_spec_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Parsed specs are cached in the session's own folder, not in the developer's ~/.cache."""
    previous = os.environ.get("XLCHECK_CACHE_DIR")
    os.environ["XLCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("spec-cache"))
    yield
    if previous is None:
        del os.environ["XLCHECK_CACHE_DIR"]
    else:
        os.environ["XLCHECK_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def libreoffice_available() -> bool:
    from tests.libreoffice import soffice

    if soffice() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have LibreOffice: .ci/run installs libreoffice-calc-nogui")
        return False
    return True
