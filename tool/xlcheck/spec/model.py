"""A template spec as frozen data: fields, derivations, scoring rules, grading, sheets of blocks."""

from __future__ import annotations

import functools
from dataclasses import field
from pathlib import Path
from typing import Union

from xlcheck.records import record

VALUE_TYPES = ("text", "integer", "number", "amount", "percent", "date", "choice", "score")
NUMERIC_TYPES = ("integer", "number", "amount", "percent", "score")
#: Roles xlcheck itself understands: ``template --year/--unit`` fill ``year``/``unit``, the
#: evaluation year of date checks is ``year``'s value, and summaries show the others as key figures.
#: A spec may name further roles of its own; these are the ones with a meaning in code.
KNOWN_ROLES = (
    "year",
    "unit",
    "budget",
    "income",
    "spending",
    "execution_rate",
    "total_score",
    "grade",
)
#: Displayed decimals per type when a field does not say: 万元 amounts with 2 decimals,
#: percentages as 99.72%, i.e. 4 decimals of the stored fraction.
DEFAULT_PRECISION = {"integer": 0, "amount": 2, "number": 2, "percent": 4, "score": 2}

#: One operand of a derivation: a field key, a number, or a nested derivation.
Operand = Union[str, float, "Derivation"]


@record
class Derivation:
    """How a derived value is computed: one verb of the spec vocabulary and its operands.

    ``operands`` are field keys (in a table row: column keys of the same row), numbers, or nested
    derivations, so ``min(执行率, 1) × 10`` is ``product: [{min: [rate, 1]}, 10]``.
    """

    verb: str
    operands: tuple[Operand, ...] = ()
    constant: float | str | None = None
    #: For ``ratio``: other denominators a unit might wrongly have used (e.g. income for budget).
    alt_bases: tuple[str, ...] = ()
    #: For ``round``: the decimals (Excel's ROUND, half away from zero).
    decimals: int = 0

    def field_keys(self) -> tuple[str, ...]:
        """Every field key this derivation reads, nested ones included, in order."""
        return self._field_keys

    # Worked out once: the rules and the recomputation ask every derivation for its keys
    # several times for each workbook of a batch.
    @functools.cached_property
    def _field_keys(self) -> tuple[str, ...]:
        found: list[str] = []
        for operand in self.operands:
            if isinstance(operand, str):
                found.append(operand)
            elif isinstance(operand, Derivation):
                found.extend(operand.field_keys())
        return tuple(found)

    def with_keys(self, rename: dict[str, str] | None = None, *, prefix: str = "") -> Derivation:
        """The same derivation reading other keys: ``rename`` maps a key, ``prefix`` is put before it."""

        def renamed(operand: Operand) -> Operand:
            if isinstance(operand, str):
                return prefix + (rename or {}).get(operand, operand)
            if isinstance(operand, Derivation):
                return operand.with_keys(rename, prefix=prefix)
            return operand

        return Derivation(
            self.verb,
            tuple(renamed(o) for o in self.operands),
            self.constant,
            tuple(prefix + (rename or {}).get(k, k) for k in self.alt_bases),
            self.decimals,
        )


@record
class ScoreRule:
    """How an indicator's expected score follows from a metric (a field key).

    ``method`` is ``proportional`` (weight × min(metric / full_at, 1)), ``bands`` (first band whose
    bound the metric meets gives ``share`` × weight) or ``deduct`` (full marks up to ``limit``,
    then ``points`` off per ``step`` over it).
    """

    metric: str
    method: str
    full_at: float = 1.0
    bands: tuple[tuple[str, float, float], ...] = ()  # (bound kind, bound, share of the weight)
    limit: float = 1.0
    step: float = 0.01
    points: float = 0.0


@record
class FieldSpec:
    """One input or derived cell as the spec declares it (before layout gives it a cell)."""

    key: str
    label: str
    value_type: str
    group: str = ""
    unit: str | None = None
    precision: int | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    derive: Derivation | None = None
    rule: ScoreRule | None = None
    help: str = ""
    #: Other words a report may use for this figure (年初预算 for 预算数).
    aliases: tuple[str, ...] = ()

    @property
    def decimals(self) -> int | None:
        return (
            self.precision if self.precision is not None else DEFAULT_PRECISION.get(self.value_type)
        )


@record
class Grade:
    name: str
    minimum: float
    aliases: tuple[str, ...] = ()


@record
class Grading:
    """How a total score is judged: its maximum, any bonus allowed above it, and the grade bands."""

    max_score: float = 100.0
    bonus_max: float = 0.0
    #: From the best grade down.
    grades: tuple[Grade, ...] = ()

    def bands_text(self, lang: str = "zh") -> str:
        """The bands as the spec states them, for messages: 优 ≥ 90、良 ≥ 80、中 ≥ 60、差."""
        parts = [f"{g.name} ≥ {g.minimum:g}" if g.minimum > 0 else g.name for g in self.grades]
        return ("、" if lang == "zh" else ", ").join(parts)


@record
class BlockSpec:
    """One block of a sheet, as its kind's module (``xlcheck.layout.<kind>``) parsed it.

    Each kind subclasses this with the fields it needs; ``kind`` names the module.
    """

    kind: str
    #: Optional heading printed above the block (e.g. 项目资金（万元）).
    title: str = ""


@record
class RepeatSpec:
    """A sheet written once per item (one 项目支出绩效自评表 per project).

    Field keys of instance n are ``<key>[n].<field key>``; each instance's sheet is named by the
    value of ``name_field`` (or ``<sheet name> n`` when it has none).
    """

    key: str
    name_field: str
    maximum: int = 200


@record
class SheetSpec:
    """A sheet: its name, title and note, and the blocks printed on it from top to bottom."""

    name: str
    title: str
    blocks: tuple[BlockSpec, ...]
    note: str = ""
    repeat: RepeatSpec | None = None
    #: Printed on A4 landscape (True) or portrait (False); None: as its blocks prefer.
    landscape: bool | None = None


@record
class CheckSpec:
    """A check the spec declares between fields or on one field.

    ``relation`` is ``equal`` or ``at_most`` (``left`` and ``right`` fields), ``date_year``
    (``left`` a date field, ``offset`` years after the evaluated year: 0 within it, 1 the year
    after), ``year_end`` (``left`` a date that must be 31 December of the evaluated year) or
    ``row_count`` (``left`` a table key, ``right`` the field stating how many rows it holds).
    """

    relation: str
    left: str
    right: str
    message: str
    message_en: str
    severity: str = "error"
    offset: int = 0


@record
class LinkSpec:
    """Figures that must agree with workbooks of another template verified in the same run.

    This spec's table ``table`` lists items (projects) by ``name`` with a figure ``amount``; each
    item has its own sheet of template ``template`` (same unit and year) whose ``detail_name``
    field names it and whose ``detail_amount`` must equal the listed figure, and the table's
    total must equal the sum of the items.
    """

    table: str
    name: str
    amount: str
    template: str
    detail_name: str
    detail_amount: str


# Identity equality: ``load_spec`` returns one object per spec file version, and the caches
# keyed on a spec (its layout) hash it by identity instead of walking every field.
@record(eq=False)
class Spec:
    id: str
    version: str
    title: str
    year: int
    sheets: tuple[SheetSpec, ...]
    checks: tuple[CheckSpec, ...] = ()
    description: str = ""
    #: What some fields mean to xlcheck itself (``year``, ``unit``, ``budget``...) → field key.
    roles: tuple[tuple[str, str], ...] = ()
    grading: Grading = field(default_factory=Grading)
    #: Figures checked against workbooks of other templates in the same run.
    links: tuple[LinkSpec, ...] = ()
    spec_hash: str = ""
    source: Path | None = field(default=None, compare=False)

    def role(self, role: str) -> str | None:
        """The key of the field playing ``role``, if the spec names one."""
        return dict(self.roles).get(role)

    def sheet(self, name: str) -> SheetSpec:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)
