"""summary merge on hand-edited shards: each bad one refused in one line (exit 3), nothing written,
and never an inf or nan in a workbook."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.hostile_inputs import bad_shards
from xlcheck.cli import cli
from xlcheck.cli_options import ExitCode

SHARDS = bad_shards()


def _merge(*args: str) -> Result:
    return CliRunner().invoke(cli, ["summary", "merge", *args])


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.mark.parametrize("name", list(SHARDS), ids=list(SHARDS))
def test_merge_refuses_a_bad_shard_in_one_line(tmp_path: Path, name: str) -> None:
    content, word = SHARDS[name]
    shard = tmp_path / name
    if name == "not-utf8.csv":
        shard.write_bytes("file,status\n甲.xlsx,ok\n".encode("gbk"))
    else:
        shard.write_text(content, encoding="utf-8")
    out = tmp_path / "汇总表.xlsx"

    result = _merge(str(shard), "-o", str(out))

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert result.exception is None or isinstance(result.exception, SystemExit), _explain(result)
    assert word in result.stderr, _explain(result)
    assert name in result.stderr.splitlines()[0]  # the first line names the shard
    assert len(result.stderr.strip().splitlines()) <= 2  # the reason and what to do
    assert not out.exists()


def test_merge_checks_every_shard_before_writing(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"kind": "xlcheck-summary", "workbooks": [{"file": "a.xlsx", "status": "ok"}]}),
        encoding="utf-8",
    )
    bad = tmp_path / "bad.json"
    bad.write_text(SHARDS["nan.json"][0], encoding="utf-8")

    result = _merge(str(good), str(bad), "-o", str(tmp_path / "m.json"))

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert not (tmp_path / "m.json").exists()


def test_merge_never_writes_inf_or_nan_into_the_workbook(tmp_path: Path) -> None:
    """Two finite budgets whose total overflows a double: the total's cached value is not inf."""
    rows = [
        {"file": f"{n}.xlsx", "status": "ok", "unit": f"单位{n}", "year": 2023, "budget": 1e308}
        for n in range(2)
    ]
    shard = tmp_path / "huge.json"
    shard.write_text(json.dumps({"kind": "xlcheck-summary", "workbooks": rows}), encoding="utf-8")
    out = tmp_path / "汇总表.xlsx"

    result = _merge(str(shard), "-o", str(out))

    assert result.exit_code == 0, _explain(result)
    with zipfile.ZipFile(out) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b">inf<" in s or b">nan<" in s.lower() for s in sheets)


def test_merge_refuses_to_write_onto_a_shard(tmp_path: Path) -> None:
    shard = tmp_path / "a.json"
    shard.write_text(json.dumps({"kind": "xlcheck-summary", "workbooks": []}), encoding="utf-8")
    before = shard.read_bytes()

    result = _merge(str(shard), "-o", str(shard), "--force")

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert shard.read_bytes() == before
