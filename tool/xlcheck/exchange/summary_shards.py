"""Summaries of shards verified on other machines, read back, checked value by value, and merged.

A shard is a file someone may have edited by hand, so nothing in it is trusted: each value must
have its column's type, numbers must be finite (no NaN, no Infinity, no 1e999), nesting stays
shallow, and a file that breaks any of this is refused in one line naming the row and column.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from xlcheck.control_characters import escape_controls
from xlcheck.errors import XlcheckError
from xlcheck.exchange.summary_rows import (
    COLUMNS,
    FINDING_COLUMNS,
    INTEGER_COLUMNS,
    NUMBER_COLUMNS,
    STATUS_WORDS,
    FindingRows,
    Summary,
    mark_duplicates,
    sort_rows,
)
from xlcheck.input_files import read_regular_file

SUMMARY_KIND = "xlcheck-summary"
#: Largest shard read: a JSON shard of 100,000 workbooks with their findings is about 200 MB.
MAX_SHARD_BYTES = 512 * 1_048_576
#: Finding values that may be numbers; every other finding column is text.
_FINDING_NUMBERS = ("year", "expected", "actual")
_STATUSES = frozenset(STATUS_WORDS["en"])


class ShardError(XlcheckError):
    """A shard that is not a valid xlcheck summary."""


def _refuse(path: Path, problem: str, problem_en: str) -> NoReturn:
    shown = escape_controls(str(path))
    raise ShardError(
        f"{shown}：{problem}",
        message_en=f"{shown}: {problem_en}",
        hint="请传入 xlcheck verify --summary-format json 或 csv 写出的汇总文件（不要手工改动）。",
        hint_en="Pass summaries written by xlcheck verify --summary-format json or csv, unedited.",
    )


def _number(value: Any, integer: bool) -> float | int | None:
    """A number as the column holds it, or None when ``value`` is not one (bool, NaN, text)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    if integer:
        return int(value) if float(value).is_integer() else None
    return value


def _checked_row(path: Path, where: str, where_en: str, row: Any) -> dict[str, Any]:
    """One workbook row with every column typed, or the shard refused."""
    if not isinstance(row, dict):
        _refuse(path, f"{where}不是一个对象", f"{where_en} is not an object")
    typed: dict[str, Any] = {}
    for key in COLUMNS:
        value = row.get(key)
        if value is None or value == "":
            typed[key] = None
        elif key in NUMBER_COLUMNS:
            number = _number(value, key in INTEGER_COLUMNS)
            if number is None:
                _refuse(
                    path,
                    f"{where}的 {key} 应为有限的数字，实际为 {escape_controls(repr(value))[:60]}",
                    f"{where_en}: {key} must be a finite number, found "
                    f"{escape_controls(repr(value))[:60]}",
                )
            typed[key] = number
        elif isinstance(value, str):
            typed[key] = value
        else:
            _refuse(
                path,
                f"{where}的 {key} 应为文本，实际为 {type(value).__name__}",
                f"{where_en}: {key} must be text, found {type(value).__name__}",
            )
    if typed["file"] is None:
        _refuse(path, f"{where}缺少 file", f"{where_en} has no file")
    if typed["status"] not in _STATUSES:
        _refuse(
            path,
            f"{where}的 status 应为 {'、'.join(sorted(_STATUSES))} 之一",
            f"{where_en}: status must be one of {', '.join(sorted(_STATUSES))}",
        )
    return typed


def _checked_finding(path: Path, number: int, finding: Any) -> dict[str, Any]:
    where, where_en = f"第 {number} 条问题", f"finding {number}"
    if not isinstance(finding, dict):
        _refuse(path, f"{where}不是一个对象", f"{where_en} is not an object")
    typed: dict[str, Any] = {}
    for key in FINDING_COLUMNS:
        value = finding.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if key not in _FINDING_NUMBERS or not math.isfinite(value):
                _refuse(
                    path,
                    f"{where}的 {key} 应为文本或有限的数字，实际为 {value!r}",
                    f"{where_en}: {key} must be text or a finite number, found {value!r}",
                )
        elif value is not None and not isinstance(value, str):
            _refuse(
                path,
                f"{where}的 {key} 类型不对（{type(value).__name__}）",
                f"{where_en}: {key} has the wrong type ({type(value).__name__})",
            )
        typed[key] = value
    return typed


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


def _read_json(path: Path, text: str) -> Summary:
    try:
        # NaN and Infinity are not JSON; Python's reader accepts them unless told not to.
        document = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        _refuse(path, "JSON 嵌套过深", "the JSON is nested too deep")
    except ValueError as exc:  # JSONDecodeError is a ValueError
        _refuse(path, f"不是有效的 JSON（{exc}）", f"not valid JSON ({exc})")
    if not isinstance(document, dict) or document.get("kind") != SUMMARY_KIND:
        _refuse(path, "不是 xlcheck 汇总文件", "not an xlcheck summary")
    rows, findings = document.get("workbooks", []), document.get("findings", [])
    if not isinstance(rows, list) or not isinstance(findings, list):
        _refuse(path, "workbooks 和 findings 应为列表", "workbooks and findings must be lists")
    return Summary(
        [
            _checked_row(path, f"第 {n} 个工作簿", f"workbook {n}", row)
            for n, row in enumerate(rows, start=1)
        ],
        FindingRows(_checked_finding(path, n, f) for n, f in enumerate(findings, start=1)),
    )


def _read_csv(path: Path, text: str) -> Summary:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if reader.fieldnames is None or not {"file", "status"} <= set(reader.fieldnames):
            _refuse(
                path,
                "不是 xlcheck 汇总 CSV（缺少 file、status 列）",
                "not an xlcheck summary CSV (no file, status columns)",
            )
        return Summary(
            [
                _checked_row(path, f"第 {n} 行", f"line {n}", row)
                for n, row in enumerate(reader, start=2)
            ]
        )
    except csv.Error as exc:
        _refuse(path, f"CSV 格式有误（{exc}）", f"malformed CSV ({exc})")


def read_summary(path: Path) -> Summary:
    """A summary written by ``verify --summary`` as JSON or CSV (a shard to merge), checked.

    Raises:
        XlcheckError: the file cannot be read, or is not a valid xlcheck summary.
    """
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        _refuse(
            path, "只能合并 .json 或 .csv 汇总文件", "only .json or .csv summaries can be merged"
        )
    try:
        data = read_regular_file(path, limit=MAX_SHARD_BYTES, what="汇总文件", what_en="summary")
        text = data.decode("utf-8-sig")
    except XlcheckError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _refuse(path, f"无法读取（{reason}）", f"cannot read it ({reason})")
    return _read_json(path, text) if suffix == ".json" else _read_csv(path, text)


def merge_summaries(paths: Sequence[Path], lang: str = "zh") -> Summary:
    """Shards verified on different machines → one summary, duplicates flagged across shards.

    Every shard is read and checked before anything is written.

    Raises:
        XlcheckError: a shard cannot be read or is not a valid xlcheck summary.
    """
    merged = Summary()
    for path in paths:
        shard = read_summary(path)
        merged.rows.extend(shard.rows)
        merged.findings.extend(shard.findings)
        shard.findings.close()
    mark_duplicates(merged.rows, lang)
    sort_rows(merged.rows)
    return merged
