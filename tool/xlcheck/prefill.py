"""Values a bureau already knows, written into a new template (``template --data``): read,
checked against the spec, and for sheets written once per item (one per project), one sheet per
item named by it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from xlcheck.cell_values import is_blank, normalise
from xlcheck.errors import XlcheckError
from xlcheck.layout import Layout, lay_out
from xlcheck.records import record
from xlcheck.spec import SheetSpec, Spec

#: Characters Excel refuses in sheet names, replaced by their full-width forms.
_SHEET_NAME_FIXES = str.maketrans(
    {"[": "［", "]": "］", ":": "：", "*": "＊", "?": "？", "/": "／", "\\": "＼"}
)
_MAX_SHEET_NAME = 31


@record
class Prefill:
    """Values by full field key, and the sheet names of every sheet written once per item."""

    values: Mapping[str, Any] = field(default_factory=dict)
    #: (repeat key, sheet names) pairs, as ``layout.lay_out`` takes them.
    instances: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def layout(self, spec: Spec) -> Layout:
        return lay_out(spec, self.instances)


def _problem(source: str, message: str, message_en: str, **hints: str) -> XlcheckError:
    return XlcheckError(f"{source}：{message}", message_en=f"{source}: {message_en}", **hints)


def read_prefill(path: Path, spec: Spec) -> Prefill:
    """Read a JSON object for ``template --data``, checked against the spec.

    The object maps field keys to values; a sheet written once per item takes a list under its
    repeat key (``"project": [{"project_name": "…", …}, …]``), one object per sheet.

    Raises:
        XlcheckError: unreadable JSON, an unknown or derived key, or a value of the wrong type.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise XlcheckError(
            f"无法读取预填数据 {path}（{exc}）",
            message_en=f"cannot read prefill data {path} ({exc})",
            hint='预填数据应为 UTF-8 编码的 JSON 对象：{"字段键": 值}。',
            hint_en='Prefill data is a UTF-8 JSON object: {"field key": value}.',
        ) from exc
    if not isinstance(data, dict):
        raise _problem(str(path), "预填数据应为 JSON 对象", "prefill data must be a JSON object")
    return build_prefill(data, spec, source=str(path))


def sheet_names(items: Sequence[str], base: str, taken: set[str]) -> tuple[str, ...]:
    """Valid, distinct Excel sheet names for the items (31 characters at most)."""
    names: list[str] = []
    used = {t.casefold() for t in taken}
    for number, item in enumerate(items, 1):
        name = " ".join(str(item).translate(_SHEET_NAME_FIXES).split()).strip("'")
        name = name[:_MAX_SHEET_NAME] or f"{base}{number}"[:_MAX_SHEET_NAME]
        candidate, count = name, 2
        while candidate.casefold() in used:
            suffix = f"({count})"
            candidate = name[: _MAX_SHEET_NAME - len(suffix)] + suffix
            count += 1
        used.add(candidate.casefold())
        names.append(candidate)
    return tuple(names)


def build_prefill(data: Mapping[str, Any], spec: Spec, *, source: str = "--data") -> Prefill:
    """Field key → value checked and normalised; repeated sheets' lists flattened to their keys."""
    repeated = {s.repeat.key: s for s in spec.sheets if s.repeat is not None}
    flat: dict[str, Any] = {}
    instances: list[tuple[str, tuple[str, ...]]] = []
    fixed_names = {s.name for s in spec.sheets if s.repeat is None}
    for key, raw in data.items():
        sheet = repeated.get(key)
        if sheet is None:
            flat[key] = raw
            continue
        items = _items(raw, key, sheet, source)
        names = sheet_names(
            [str(i.get(_repeat_field(sheet), "") or "") for i in items], sheet.name, fixed_names
        )
        fixed_names.update(names)
        instances.append((key, names))
        for number, item in enumerate(items, 1):
            flat.update({f"{key}[{number}].{k}": v for k, v in item.items()})
    prefill = Prefill({}, tuple(instances))
    return Prefill(check_values(flat, spec, prefill.layout(spec), source=source), prefill.instances)


def _repeat_field(sheet: SheetSpec) -> str:
    assert sheet.repeat is not None
    return sheet.repeat.name_field


def _items(raw: Any, key: str, sheet: SheetSpec, source: str) -> list[dict[str, Any]]:
    assert sheet.repeat is not None
    if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
        raise _problem(
            source,
            f"{key} 应为对象列表，每个对象是一张“{sheet.name}”（如每个项目一个）",
            f"{key} must be a list of objects, one per '{sheet.name}' sheet",
        )
    if not 1 <= len(raw) <= sheet.repeat.maximum:
        raise _problem(
            source,
            f"{key} 应有 1 到 {sheet.repeat.maximum} 项，实际 {len(raw)} 项",
            f"{key} must have 1 to {sheet.repeat.maximum} items, found {len(raw)}",
        )
    return [dict(item) for item in raw]


def check_values(
    data: Mapping[str, Any], spec: Spec, layout: Layout, *, source: str = "--data"
) -> dict[str, Any]:
    """Field key → value checked and normalised for the layout's input cells."""
    by_key = layout.by_key
    values: dict[str, Any] = {}
    for key, raw in data.items():
        placed = by_key.get(key)
        if placed is None:
            raise _problem(
                source,
                f"模板 {spec.id} 没有字段 {key}",
                f"template {spec.id} has no field {key}",
                hint="用 xlcheck fields 查看所有字段键。",
                hint_en="List the field keys with `xlcheck fields`.",
            )
        if not placed.is_input:
            raise _problem(
                source,
                f"{key}（{placed.label_path}）由公式计算，不能预填",
                f"{key} ({placed.label_path}) is computed by a formula and cannot be pre-filled",
            )
        if is_blank(raw):
            continue
        normalised = normalise(raw, placed.spec.value_type, placed.spec.unit)
        if normalised.problem is not None or normalised.value is None:
            raise _problem(
                source,
                f"{key}（{placed.label_path}）的值 {raw!r} 不是{placed.spec.value_type}类型",
                f"{key} ({placed.label_path}) value {raw!r} is not of type {placed.spec.value_type}",
            )
        values[key] = normalised.value
    return values
