"""Raw YAML values with their key paths, and the parsers every sheet kind shares (fields,
derivations, scoring rules); every message names the key path of the problem."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from xlcheck.errors import SpecError
from xlcheck.spec.model import (
    NUMERIC_TYPES,
    VALUE_TYPES,
    Derivation,
    FieldSpec,
    Operand,
    ScoreRule,
)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# Excel refuses these in sheet names; 31 characters at most.
BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")
#: Derivation verbs: how each is written as a formula and recomputed is in formulas/recompute.
DERIVATIONS = (
    "sum",
    "difference",
    "product",
    "ratio",
    "min",
    "max",
    "round",
    "constant",
    "grade",
    "copy",
)
T = TypeVar("T")
D = TypeVar("D")


class SpecNode:
    """A value in the raw spec together with its key path, for precise messages."""

    def __init__(self, value: Any, path: str, source: Path) -> None:
        self.value = value
        self.path = path
        self.source = source

    def fail(self, problem: str) -> SpecError:
        return SpecError(self.source, self.path, problem)

    def child(self, key: str | int) -> SpecNode:
        if isinstance(key, int):
            return SpecNode(self.value[key], f"{self.path}[{key}]", self.source)
        path = f"{self.path}.{key}" if self.path else key
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return SpecNode(value, path, self.source)

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def mapping(self, allowed: set[str]) -> SpecNode:
        if not isinstance(self.value, dict):
            raise self.fail("应为键值表（mapping）")
        unknown = sorted(str(k) for k in self.value if k not in allowed)
        if unknown:
            raise self.fail(
                f"未知的键 {', '.join(unknown)}；允许的键：{', '.join(sorted(allowed))}"
            )
        return self

    def items(self) -> list[SpecNode]:
        if not isinstance(self.value, list) or not self.value:
            raise self.fail("应为非空列表")
        return [self.child(i) for i in range(len(self.value))]

    def get(self, key: str, convert: Callable[[SpecNode], T], default: D) -> T | D:
        node = self.child(key)
        return default if node.value is None else convert(node)

    def need(self, key: str, convert: Callable[[SpecNode], T]) -> T:
        node = self.child(key)
        if node.value is None:
            raise node.fail("缺少此项")
        return convert(node)


def text(node: SpecNode) -> str:
    if not isinstance(node.value, str | int | float) or isinstance(node.value, bool):
        raise node.fail("应为文本")
    return str(node.value)


def number(node: SpecNode) -> float:
    if isinstance(node.value, bool) or not isinstance(node.value, int | float):
        raise node.fail(f"应为数字，实际为 {node.value!r}")
    return float(node.value)


def integer(node: SpecNode) -> int:
    if isinstance(node.value, bool) or not isinstance(node.value, int):
        raise node.fail(f"应为整数，实际为 {node.value!r}")
    return node.value


def integer_in(
    low: int, high: int, *, subject: str = "", note: str = ""
) -> Callable[[SpecNode], int]:
    """A reader of a whole number from ``low`` to ``high``, refusing others with
    ``{subject}应在 low 到 high 之间{note}`` (``note`` says what the number counts)."""

    def read(node: SpecNode) -> int:
        value = integer(node)
        if not low <= value <= high:
            raise node.fail(f"{subject}应在 {low} 到 {high} 之间{note}")
        return value

    return read


#: Columns a label, a value or a text area may take on a printed form (merged cells).
column_span = integer_in(1, 30, note="（所占的列数）")


def flag(node: SpecNode) -> bool:
    if not isinstance(node.value, bool):
        raise node.fail("应为 true 或 false")
    return node.value


def key(node: SpecNode) -> str:
    value = text(node)
    if not KEY_PATTERN.match(value):
        raise node.fail(f"键 {value!r} 只能用小写字母、数字和下划线，并以字母开头")
    return value


def keys(node: SpecNode) -> tuple[str, ...]:
    return tuple(text(item) for item in node.items())


def texts(node: SpecNode) -> tuple[str, ...]:
    """A list of texts; a single text is a list of one."""
    if isinstance(node.value, str):
        return (node.value,)
    return tuple(text(item) for item in node.items())


def sheet_name(node: SpecNode) -> str:
    name = text(node)
    if len(name) > 31 or BAD_SHEET_CHARACTERS.search(name) or not name.strip():
        raise node.fail(f"工作表名 {name!r} 在 Excel 中无效（最多 31 个字符，不能含 []:*?/\\）")
    return name


def _operand(node: SpecNode) -> Operand:
    if isinstance(node.value, dict):
        return derivation(node)
    if isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    return text(node)


def derivation(node: SpecNode) -> Derivation:
    """``{verb: operands}``: sum, difference, product, ratio, min, max, round, constant, grade, copy."""
    node.mapping({*DERIVATIONS, "alt_bases"})
    verbs = [v for v in DERIVATIONS if v in node.value]
    if len(verbs) != 1:
        raise node.fail(f"应恰好给出一种计算方式：{', '.join(DERIVATIONS)}")
    verb = verbs[0]
    body = node.child(verb)
    alt_bases = node.get("alt_bases", keys, ())
    if alt_bases and verb != "ratio":
        raise node.child("alt_bases").fail("只有 ratio 可以声明 alt_bases")
    if verb == "constant":
        if not isinstance(body.value, int | float | str) or isinstance(body.value, bool):
            raise body.fail("应为数字或文本")
        return Derivation(verb, constant=body.value)
    if verb in ("grade", "copy"):
        return Derivation(verb, (text(body),))
    operands = tuple(_operand(item) for item in body.items())
    if verb in ("difference", "ratio") and len(operands) != 2:
        raise body.fail(f"{verb} 需要恰好两个运算对象")
    if verb == "round":
        if len(operands) != 2 or not isinstance(operands[1], float) or not operands[1].is_integer():
            raise body.fail("round 需要 [计算对象, 小数位数]，如 [{product: [a, b]}, 2]")
        return Derivation(verb, operands[:1], decimals=int(operands[1]))
    if verb in ("product", "min", "max") and len(operands) < 2:
        raise body.fail(f"{verb} 需要至少两个运算对象")
    return Derivation(verb, operands, alt_bases=alt_bases)


def score_rule(node: SpecNode) -> ScoreRule:
    node.mapping({"metric", "proportional", "bands", "deduct"})
    metric = node.need("metric", text)
    methods = [m for m in ("proportional", "bands", "deduct") if m in node.value]
    if len(methods) != 1:
        raise node.fail("应恰好给出一种评分方式：proportional、bands、deduct")
    method = methods[0]
    body = node.child(method)
    if method == "proportional":
        body.mapping({"full_at"})
        return ScoreRule(metric, method, full_at=body.get("full_at", number, 1.0))
    if method == "deduct":
        body.mapping({"limit", "step", "points"})
        return ScoreRule(
            metric,
            method,
            limit=body.need("limit", number),
            step=body.get("step", number, 0.01),
            points=body.need("points", number),
        )
    bands = []
    for band in body.items():
        band.mapping({"at_least", "at_most", "share"})
        share = band.need("share", number)
        if not 0 <= share <= 1:
            raise band.child("share").fail("share 是分值的比例，应在 0 到 1 之间")
        if "at_least" in band.value:
            bands.append(("at_least", band.need("at_least", number), share))
        elif "at_most" in band.value:
            bands.append(("at_most", band.need("at_most", number), share))
        else:
            bands.append(("any", 0.0, share))
    return ScoreRule(metric, method, bands=tuple(bands))


#: Keys a field (a form row, a table column, a grid cell) may carry.
FIELD_KEYS = frozenset(
    {
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
        "aliases",
    }
)


def field(
    node: SpecNode, *, key_name: str = "key", extra: frozenset[str] = frozenset()
) -> FieldSpec:
    """A field declaration; ``key_name`` is ``column`` in tables, ``extra`` the keys a kind adds."""
    node.mapping(set((FIELD_KEYS - {"key"}) | {key_name} | extra))
    value_type = node.need("type", text)
    if value_type not in VALUE_TYPES:
        raise node.child("type").fail(f"未知类型 {value_type!r}；可用：{', '.join(VALUE_TYPES)}")
    choices = node.get("choices", keys, ())
    if value_type == "choice" and not choices:
        raise node.fail("choice 类型需要 choices 列表")
    derive = node.get("derive", derivation, None)
    minimum = node.get("min", number, None)
    maximum = node.get("max", number, None)
    if (minimum is not None or maximum is not None) and value_type not in NUMERIC_TYPES:
        raise node.fail("只有数值类型可以设 min/max")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise node.child("min").fail("min 大于 max")
    return FieldSpec(
        key=node.need(key_name, key),
        label=node.need("label", text),
        value_type=value_type,
        group=node.get("group", text, ""),
        unit=node.get("unit", text, None),
        precision=node.get("precision", integer, None),
        required=node.get("required", flag, False) and derive is None,
        minimum=minimum,
        maximum=maximum,
        choices=choices,
        derive=derive,
        help=node.get("help", text, ""),
        aliases=node.get("aliases", texts, ()),
    )
