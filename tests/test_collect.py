"""xlcheck collect: every input and recomputed value of every workbook as one tidy table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from tests.conftest import FillWorkbook
from xlcheck.cli import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "parquet"], ids=["csv", "xlsx", "parquet"])
def test_collect_writes_one_row_per_field_per_workbook(
    make_workbook: FillWorkbook, tmp_path: Path, suffix: str
) -> None:
    if suffix == "parquet":
        pytest.importorskip("pyarrow")
    first = make_workbook(name="a.xlsx")
    second = make_workbook(name="b.xlsx", overrides={"unit_name": "湛江市财政局"})
    out = tmp_path / f"values.{suffix}"

    result = run("collect", str(first), str(second), "-o", str(out), "-j", "2")

    assert result.exit_code == 0, result.output
    if suffix == "csv":
        frame = pd.read_csv(out)
    elif suffix == "xlsx":
        frame = pd.read_excel(out, engine="calamine")
    else:
        frame = pd.read_parquet(out)
    assert set(frame["unit"]) == {"湛江市信访局", "湛江市财政局"}
    budget = frame[(frame["key"] == "budget_total") & (frame["unit"] == "湛江市信访局")].iloc[0]
    assert budget["value"] == 1133.49
    assert budget["unit_of_measure"] == "万元"
    assert budget["kind"] == "derived" and budget["label"].startswith("数据表/")
    assert frame[frame["key"] == "grade"]["text"].tolist() == ["优", "优"]
    assert len(frame) == 2 * len(frame[frame["file"] == str(first)])


def test_collect_reports_unreadable_files_and_exits_3(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    out = tmp_path / "v.csv"

    result = run("collect", str(make_workbook()), str(tmp_path / "missing.xlsx"), "-o", str(out))

    assert result.exit_code == 3, result.output
    assert "missing.xlsx" in result.stderr
    assert out.exists()


def test_collect_unknown_output_format_is_a_clear_error(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    result = run("collect", str(make_workbook()), "-o", str(tmp_path / "v.txt"))

    assert result.exit_code == 3, result.output
    assert ".parquet" in result.stderr
    assert "Traceback" not in result.output


def test_parquet_without_pyarrow_is_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    from xlcheck import XlcheckError
    from xlcheck.exchange.collect import collect_format

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "pyarrow" else real_find_spec(name, *args),
    )
    with pytest.raises(XlcheckError, match="pyarrow"):
        collect_format(tmp_path / "values.parquet", None)
    assert collect_format(tmp_path / "values.csv", None) == "csv"


def test_collect_writes_the_year_as_a_whole_number(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    out = tmp_path / "values.csv"
    assert run("collect", str(make_workbook()), "-o", str(out)).exit_code == 0
    years = {line.split(",")[2] for line in out.read_text(encoding="utf-8-sig").splitlines()[1:]}
    assert years == {"2023"}
