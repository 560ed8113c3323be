"""The 汇总表 of a batch is begun before the first result and its 问题清单 written as results
come: the workbook is the one written from scratch after the last result, findings across
workbooks included, and a batch stopped midway or failing to stream leaves nothing behind."""

from __future__ import annotations

import gc
import tempfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FillWorkbook, seed_values
from tests.test_cross_workbook import _unit_workbooks
from xlcheck.exchange import summary, summary_workbook
from xlcheck.exchange.batch_run import BatchRun, SideOutputs
from xlcheck.verification import VerifyOptions

#: The part holding the workbook's creation time, the only one two writings do not share.
_CREATED = "docProps/core.xml"


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder of this test alone, where the summary's unwritten rows wait."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _inputs(make_workbook: FillWorkbook, tmp_path: Path) -> list[Path]:
    """A unit's two linked workbooks (the links add findings after the last result), one with
    findings of its own, and a file that is no workbook."""
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK garbage")
    overall, projects = _unit_workbooks(make_workbook, tmp_path)
    return [overall, make_workbook(seed_values(), name="wrong.xlsx"), broken, projects]


def _run(inputs: list[Path], summary: Path) -> BatchRun:
    run = BatchRun(
        inputs,
        options=VerifyOptions(annotate=False, force=True),
        side=SideOutputs(summary=summary),
        jobs=1,
    )
    for _ in run:
        pass
    assert run.amendments, "the links must add findings after the last result"
    assert run.finish() == [summary]
    assert run.failures == []
    return run


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist() if name != _CREATED}


def test_the_streamed_summary_is_the_one_written_after_the_last_result(
    make_workbook: FillWorkbook, tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(make_workbook, tmp_path)
    streamed = tmp_path / "streamed.xlsx"
    _run(inputs, streamed)
    assert list(scratch.iterdir()) == []

    def cannot_begin(*args: object) -> None:
        raise OSError(28, "No space left on device")

    # Beginning fails: the workbook is written from scratch at the end, as it always was.
    monkeypatch.setattr(summary, "begin_summary_workbook", cannot_begin)
    at_the_end = tmp_path / "at-the-end.xlsx"
    _run(inputs, at_the_end)

    streamed_parts, end_parts = _parts(streamed), _parts(at_the_end)
    assert streamed_parts.keys() == end_parts.keys()
    for name, data in streamed_parts.items():
        assert data == end_parts[name], name
    findings = streamed_parts["xl/worksheets/sheet2.xml"].decode()
    assert "project-amount-differs" in findings  # the findings the links added are there


def test_a_summary_that_fails_to_stream_is_written_at_the_end(
    make_workbook: FillWorkbook, tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(make_workbook, tmp_path)
    expected = tmp_path / "expected.xlsx"
    _run(inputs, expected)
    calls = []
    add_findings = summary_workbook.SummaryWorkbook.add_findings

    def full_disk_at_the_second(self: summary_workbook.SummaryWorkbook, rows: object) -> None:
        calls.append(rows)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        add_findings(self, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(summary_workbook.SummaryWorkbook, "add_findings", full_disk_at_the_second)
    written = tmp_path / "written.xlsx"
    _run(inputs, written)

    # Nothing more was streamed once it failed; at the end every finding was written anew.
    assert [isinstance(rows, list) for rows in calls] == [True, True, False]
    assert _parts(written) == _parts(expected)
    assert list(scratch.iterdir()) == []


def test_a_batch_stopped_midway_leaves_no_summary_rows_behind(
    make_workbook: FillWorkbook, tmp_path: Path, scratch: Path
) -> None:
    run = BatchRun(
        _inputs(make_workbook, tmp_path),
        options=VerifyOptions(annotate=False),
        side=SideOutputs(summary=tmp_path / "汇总表.xlsx"),
        jobs=1,
    )
    results = iter(run)
    next(results)
    assert [p.name.startswith("xlcheck-summary-") for p in scratch.iterdir()] == [True]
    results.close()
    del run, results
    gc.collect()

    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "汇总表.xlsx").exists()
