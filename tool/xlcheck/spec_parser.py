"""Raw YAML data → a validated ``Spec``; every message names the key path of the problem."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from xlcheck.errors import SpecError
from xlcheck.spec import (
    DERIVATIONS,
    NUMERIC_TYPES,
    ROLES,
    VALUE_TYPES,
    CheckSpec,
    Derivation,
    FieldSpec,
    FormSheetSpec,
    Grade,
    IndicatorSpec,
    PartSpec,
    ScoreRule,
    ScoringSheetSpec,
    SectionSpec,
    SheetSpec,
    Spec,
    TableSheetSpec,
)

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
# Excel refuses these in sheet names; 31 characters at most.
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
T = TypeVar("T")
D = TypeVar("D")


class _Node:
    """A value in the raw spec together with its key path, for precise messages."""

    def __init__(self, value: Any, path: str, source: Path) -> None:
        self.value = value
        self.path = path
        self.source = source

    def fail(self, problem: str) -> SpecError:
        return SpecError(self.source, self.path, problem)

    def child(self, key: str | int) -> _Node:
        path = (
            f"{self.path}[{key}]"
            if isinstance(key, int)
            else (f"{self.path}.{key}" if self.path else key)
        )
        if isinstance(key, int):
            return _Node(self.value[key], path, self.source)
        return _Node(
            self.value.get(key) if isinstance(self.value, dict) else None, path, self.source
        )

    def mapping(self, allowed: set[str]) -> _Node:
        if not isinstance(self.value, dict):
            raise self.fail("应为键值表（mapping）")
        unknown = sorted(str(k) for k in self.value if k not in allowed)
        if unknown:
            raise self.fail(
                f"未知的键 {', '.join(unknown)}；允许的键：{', '.join(sorted(allowed))}"
            )
        return self

    def items(self) -> list[_Node]:
        if not isinstance(self.value, list) or not self.value:
            raise self.fail("应为非空列表")
        return [self.child(i) for i in range(len(self.value))]

    def get(self, key: str, convert: Callable[[_Node], T], default: D) -> T | D:
        node = self.child(key)
        return default if node.value is None else convert(node)

    def need(self, key: str, convert: Callable[[_Node], T]) -> T:
        node = self.child(key)
        if node.value is None:
            raise node.fail("缺少此项")
        return convert(node)


def _text(node: _Node) -> str:
    if not isinstance(node.value, str | int | float) or isinstance(node.value, bool):
        raise node.fail("应为文本")
    return str(node.value)


def _number(node: _Node) -> float:
    if isinstance(node.value, bool) or not isinstance(node.value, int | float):
        raise node.fail(f"应为数字，实际为 {node.value!r}")
    return float(node.value)


def _integer(node: _Node) -> int:
    if isinstance(node.value, bool) or not isinstance(node.value, int):
        raise node.fail(f"应为整数，实际为 {node.value!r}")
    return node.value


def _flag(node: _Node) -> bool:
    if not isinstance(node.value, bool):
        raise node.fail("应为 true 或 false")
    return node.value


def _key(node: _Node) -> str:
    key = _text(node)
    if not _KEY.match(key):
        raise node.fail(f"键 {key!r} 只能用小写字母、数字和下划线，并以字母开头")
    return key


def _keys(node: _Node) -> tuple[str, ...]:
    return tuple(_text(item) for item in node.items())


def _sheet_name(node: _Node) -> str:
    name = _text(node)
    if len(name) > 31 or _BAD_SHEET_CHARS.search(name) or not name.strip():
        raise node.fail(f"工作表名 {name!r} 在 Excel 中无效（最多 31 个字符，不能含 []:*?/\\）")
    return name


def _derivation(node: _Node) -> Derivation:
    node.mapping({*DERIVATIONS, "alt_bases"})
    verbs = [v for v in DERIVATIONS if v in node.value]
    if len(verbs) != 1:
        raise node.fail(f"应恰好给出一种计算方式：{', '.join(DERIVATIONS)}")
    verb = verbs[0]
    operand = node.child(verb)
    alt_bases = node.get("alt_bases", _keys, ())
    if alt_bases and verb != "ratio":
        raise node.child("alt_bases").fail("只有 ratio 可以声明 alt_bases")
    if verb == "constant":
        if not isinstance(operand.value, int | float | str) or isinstance(operand.value, bool):
            raise operand.fail("应为数字或文本")
        return Derivation(verb, constant=operand.value)
    if verb == "grade":
        return Derivation(verb, (_text(operand),))
    operands = _keys(operand)
    if verb in ("difference", "ratio") and len(operands) != 2:
        raise operand.fail(f"{verb} 需要恰好两个字段")
    return Derivation(verb, operands, alt_bases=alt_bases)


def _rule(node: _Node) -> ScoreRule:
    node.mapping({"metric", "proportional", "bands", "deduct"})
    metric = node.need("metric", _text)
    methods = [m for m in ("proportional", "bands", "deduct") if m in node.value]
    if len(methods) != 1:
        raise node.fail("应恰好给出一种评分方式：proportional、bands、deduct")
    method = methods[0]
    body = node.child(method)
    if method == "proportional":
        body.mapping({"full_at"})
        return ScoreRule(metric, method, full_at=body.get("full_at", _number, 1.0))
    if method == "deduct":
        body.mapping({"limit", "step", "points"})
        return ScoreRule(
            metric,
            method,
            limit=body.need("limit", _number),
            step=body.get("step", _number, 0.01),
            points=body.need("points", _number),
        )
    bands = []
    for band in body.items():
        band.mapping({"at_least", "at_most", "share"})
        share = band.need("share", _number)
        if not 0 <= share <= 1:
            raise band.child("share").fail("share 是分值的比例，应在 0 到 1 之间")
        if "at_least" in band.value:
            bands.append(("at_least", band.need("at_least", _number), share))
        elif "at_most" in band.value:
            bands.append(("at_most", band.need("at_most", _number), share))
        else:
            bands.append(("any", 0.0, share))
    return ScoreRule(metric, method, bands=tuple(bands))


_FIELD_KEYS = {
    "key",
    "label",
    "type",
    "group",
    "unit",
    "precision",
    "required",
    "min",
    "max",
    "choices",
    "derive",
    "help",
}


def _field(node: _Node, *, key_name: str = "key") -> FieldSpec:
    node.mapping((_FIELD_KEYS - {"key"}) | {key_name})
    value_type = node.need("type", _text)
    if value_type not in VALUE_TYPES:
        raise node.child("type").fail(f"未知类型 {value_type!r}；可用：{', '.join(VALUE_TYPES)}")
    choices = node.get("choices", _keys, ())
    if value_type == "choice" and not choices:
        raise node.fail("choice 类型需要 choices 列表")
    derive = node.get("derive", _derivation, None)
    minimum = node.get("min", _number, None)
    maximum = node.get("max", _number, None)
    if (minimum is not None or maximum is not None) and value_type not in NUMERIC_TYPES:
        raise node.fail("只有数值类型可以设 min/max")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise node.child("min").fail("min 大于 max")
    return FieldSpec(
        key=node.need(key_name, _key),
        label=node.need("label", _text),
        value_type=value_type,
        group=node.get("group", _text, ""),
        unit=node.get("unit", _text, None),
        precision=node.get("precision", _integer, None),
        required=node.get("required", _flag, False) and derive is None,
        minimum=minimum,
        maximum=maximum,
        choices=choices,
        derive=derive,
        help=node.get("help", _text, ""),
    )


def _form_sheet(node: _Node) -> FormSheetSpec:
    node.mapping({"name", "layout", "title", "note", "rows"})
    rows: list[FieldSpec | SectionSpec] = []
    for row in node.need("rows", lambda n: n.items()):
        if isinstance(row.value, dict) and "section" in row.value:
            row.mapping({"section"})
            rows.append(SectionSpec(row.need("section", _text)))
        else:
            rows.append(_field(row))
    return FormSheetSpec(
        name=node.need("name", _sheet_name),
        title=node.get("title", _text, ""),
        rows=tuple(rows),
        note=node.get("note", _text, ""),
    )


def _table_sheet(node: _Node) -> TableSheetSpec:
    node.mapping(
        {"name", "layout", "title", "note", "key", "capacity", "columns", "totals", "row_required"}
    )
    columns = tuple(_field(c, key_name="column") for c in node.need("columns", lambda n: n.items()))
    names = {c.key for c in columns}
    for listed in ("totals", "row_required"):
        for item in node.get(listed, lambda n: n.items(), []):
            if _text(item) not in names:
                raise item.fail(f"表中没有列 {item.value!r}")
    capacity = node.need("capacity", _integer)
    if not 1 <= capacity <= 1000:
        raise node.child("capacity").fail("capacity 应在 1 到 1000 之间")
    return TableSheetSpec(
        name=node.need("name", _sheet_name),
        title=node.get("title", _text, ""),
        key=node.need("key", _key),
        capacity=capacity,
        columns=columns,
        totals=node.get("totals", _keys, ()),
        row_required=node.get("row_required", _keys, ()),
        note=node.get("note", _text, ""),
    )


def _scoring_sheet(node: _Node) -> ScoringSheetSpec:
    node.mapping({"name", "layout", "title", "note", "parts", "max_score", "bonus_max", "grades"})
    parts = []
    for part in node.need("parts", lambda n: n.items()):
        part.mapping({"key", "name", "indicators"})
        indicators = []
        for ind in part.need("indicators", lambda n: n.items()):
            ind.mapping({"key", "level2", "name", "weight", "criteria", "rule"})
            weight = ind.need("weight", _number)
            if weight < 0:
                raise ind.child("weight").fail("分值不能为负")
            indicators.append(
                IndicatorSpec(
                    key=ind.need("key", _key),
                    level2=ind.need("level2", _text),
                    name=ind.need("name", _text),
                    weight=weight,
                    criteria=ind.get("criteria", _text, ""),
                    rule=ind.get("rule", _rule, None),
                )
            )
        parts.append(PartSpec(part.need("key", _key), part.need("name", _text), tuple(indicators)))
    grades = []
    for grade in node.need("grades", lambda n: n.items()):
        grade.mapping({"name", "min", "aliases"})
        grades.append(
            Grade(
                grade.need("name", _text),
                grade.need("min", _number),
                grade.get("aliases", _keys, ()),
            )
        )
    if sorted(grades, key=lambda g: -g.minimum) != grades:
        raise node.child("grades").fail("等级应按 min 从高到低排列")
    return ScoringSheetSpec(
        name=node.need("name", _sheet_name),
        title=node.get("title", _text, ""),
        parts=tuple(parts),
        max_score=node.get("max_score", _number, 100.0),
        bonus_max=node.get("bonus_max", _number, 0.0),
        grades=tuple(grades),
        note=node.get("note", _text, ""),
    )


def _check(node: _Node) -> CheckSpec:
    node.mapping({"equal", "at_most", "message", "message_en", "severity"})
    relations = [r for r in ("equal", "at_most") if r in node.value]
    if len(relations) != 1:
        raise node.fail("应恰好给出 equal 或 at_most")
    operands = node.need(relations[0], _keys)
    if len(operands) != 2:
        raise node.child(relations[0]).fail("需要恰好两个字段")
    severity = node.get("severity", _text, "error")
    if severity not in ("error", "warning"):
        raise node.child("severity").fail("应为 error 或 warning")
    message = node.need("message", _text)
    return CheckSpec(
        relations[0],
        operands[0],
        operands[1],
        message,
        node.get("message_en", _text, message),
        severity,
    )


_SHEET_PARSERS: dict[str, Callable[[_Node], SheetSpec]] = {
    "form": _form_sheet,
    "table": _table_sheet,
    "scoring": _scoring_sheet,
}


def parse_spec(raw: Any, source: Path, *, spec_hash: str = "") -> Spec:
    """Validate raw YAML data and build the spec, cross-checking every field key it mentions."""
    root = _Node(raw, "", source).mapping(
        {"id", "version", "title", "year", "description", "roles", "sheets", "checks"}
    )
    sheets = []
    for sheet in root.need("sheets", lambda n: n.items()):
        if not isinstance(sheet.value, dict):
            raise sheet.fail("应为键值表（mapping）")
        layout_name = sheet.need("layout", _text)
        if layout_name not in _SHEET_PARSERS:
            raise sheet.child("layout").fail(
                f"未知版式 {layout_name!r}；可用：{', '.join(_SHEET_PARSERS)}"
            )
        sheets.append(_SHEET_PARSERS[layout_name](sheet))
    spec = Spec(
        id=root.need("id", _text),
        version=root.need("version", _text),
        title=root.need("title", _text),
        year=root.need("year", _integer),
        sheets=tuple(sheets),
        checks=tuple(_check(c) for c in root.get("checks", lambda n: n.items(), [])),
        description=root.get("description", _text, ""),
        roles=root.get("roles", _roles, ()),
        spec_hash=spec_hash,
        source=source,
    )
    from xlcheck.layout import lay_out

    layout = lay_out(spec)  # raises SpecError for unknown keys, duplicates and cycles
    for role, key in spec.roles:
        if key not in layout.by_key:
            raise root.child("roles").child(role).fail(f"引用了不存在的字段 {key}")
    return spec


def _roles(node: _Node) -> tuple[tuple[str, str], ...]:
    node.mapping(set(ROLES))
    return tuple((role, _text(node.child(role))) for role in ROLES if role in node.value)
