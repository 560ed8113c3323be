"""The rule registry: every finding code with its meaning and messages, what rules see, and how
a finding is made. Each rule family module declares its rules with ``rule(...)`` next to its checks."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from xlcheck.cell_values import Normalised, display, excel_round, json_value
from xlcheck.findings import CellRef, Finding, Rule, Severity, declare_rule
from xlcheck.layout import Layout, PlacedField
from xlcheck.records import record
from xlcheck.spec import Derivation, Grading

if TYPE_CHECKING:
    # Only named in a field's type: a batch's parent process, which makes findings across
    # workbooks but reads none, does not import the reader (and the package, sheet XML and
    # relocation modules behind it, 14 ms).
    from xlcheck.reader import FilledWorkbook

REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    severity: Severity,
    title: str,
    title_en: str,
    description: str,
    message: str,
    message_en: str,
    *,
    severity_from_spec: bool = False,
) -> Rule:
    return declare_rule(
        REGISTRY,
        Rule(code, severity, title, title_en, description, message, message_en, severity_from_spec),
    )


@record
class RuleContext:
    """What the rules see: the layout, the cells as read, and every value normalised or recomputed.

    ``cells`` holds every cell read, normalised once to its field's type. ``values`` holds, per
    field key, the value the workbook should show: inputs as normalised, derived values as
    recomputed from the inputs. ``shown`` holds what the workbook itself shows in derived cells
    whose formula was replaced (a typed value) and is absent otherwise.
    """

    layout: Layout
    workbook: FilledWorkbook
    cells: dict[str, Normalised]
    values: dict[str, Any]
    shown: dict[str, Any]
    #: Sums typed as a figure over parts all left blank (基本支出 from the final accounts without
    #: its breakdown): the typed figure stands for the parts in every total above it.
    typed_subtotals: frozenset[str] = frozenset()

    @property
    def grading(self) -> Grading:
        return self.layout.spec.grading

    @functools.cached_property
    def excused(self) -> frozenset[str]:
        """Blank parts of a typed subtotal: not required once the subtotal stands for them."""
        by_key = self.layout.by_key
        return frozenset(
            key
            for subtotal in self.typed_subtotals
            for key in (by_key[subtotal].spec.derive or Derivation("sum")).field_keys()
        )

    @functools.cached_property
    def unreliable(self) -> frozenset[str]:
        """Keys whose value rests on an input that is missing though required, or unreadable.

        Relations and scoring rules skip these: the missing input is reported once, at its cell,
        instead of again through every total and check built on it.
        """
        by_key = self.layout.by_key
        input_keys, excused, readings = self.layout.input_keys, self.excused, self.workbook.cells
        bad = {
            key
            for key, normalised in self.cells.items()
            if key in input_keys
            and key not in excused
            and (
                normalised.problem is not None
                or (normalised.value is None and by_key[key].spec.required)
                or readings[key].error is not None
            )
        }
        if not bad:
            return frozenset()
        for placed in self.layout.dependencies_first():
            derive = placed.spec.derive
            if placed.key in self.typed_subtotals or derive is None:
                continue
            if any(operand in bad for operand in derive.field_keys()):
                bad.add(placed.key)
        return frozenset(bad)

    @functools.cached_property
    def downstream_of_tampering(self) -> frozenset[str]:
        """Derived keys that use, directly or not, a derived cell whose formula is gone or changed.

        What such a cell shows is a consequence of the tampering, already reported at its cell.
        """
        from xlcheck.formula_text import normalise_formula
        from xlcheck.formulas import template_formulas

        formulas = template_formulas(self.layout)
        tampered: set[str] = set()
        for key, formula in formulas.items():
            reading = self.workbook.cells.get(key)
            if reading is None:
                continue
            if reading.formula is None or (
                reading.formula != formula
                and normalise_formula(reading.formula) != normalise_formula(formula)
            ):
                tampered.add(key)
        if not tampered:
            return frozenset()
        downstream: set[str] = set()
        for placed in self.layout.dependencies_first():
            derive = placed.spec.derive
            if derive is not None and any(
                o in tampered or o in downstream for o in derive.field_keys()
            ):
                downstream.add(placed.key)
        return frozenset(downstream)

    @functools.cached_property
    def self_check_formulas(self) -> tuple[frozenset[str], frozenset[str]]:
        """The 自查 formulas the template writes and those the workbook holds, normalised (asked
        only when a 自查 cell's formula differs from the template's)."""
        from xlcheck.formula_text import normalise_formula
        from xlcheck.formulas import template_formulas
        from xlcheck.layout.self_check import SELF_CHECK_ROLE

        formulas = template_formulas(self.layout)
        keys = [f.key for f in self.layout.fields if f.role == SELF_CHECK_ROLE]
        expected = frozenset(normalise_formula(formulas[k]) for k in keys if k in formulas)
        readings = (self.workbook.cells.get(k) for k in keys)
        held = frozenset(normalise_formula(r.formula) for r in readings if r and r.formula)
        return expected, held

    def value_shown(self, key: str) -> Any:
        return self.shown[key] if key in self.shown else self.values.get(key)

    def show(self, key: str, value: Any) -> str:
        spec = self.layout.by_key[key].spec
        return display(value, spec.value_type, spec.decimals, spec.unit)


def make_finding(
    rule_: Rule,
    placed: PlacedField | None,
    *,
    expected: Any = None,
    actual: Any = None,
    severity: Severity | None = None,
    location: CellRef | None = None,
    **params: Any,
) -> Finding:
    """A finding of ``rule_`` at ``placed``'s cell; messages are filled from ``params``."""
    expected_text = actual_text = None
    if placed is not None:
        params.setdefault("label", placed.short_label)
        spec = placed.spec
        expected_text = None if expected is None else _shown(expected, placed)
        actual_text = None if actual is None else _shown(actual, placed)
        expected, actual = (
            json_value(expected, spec.value_type, spec.decimals),
            json_value(actual, spec.value_type, spec.decimals),
        )
    return Finding(
        code=rule_.code,
        severity=severity or rule_.severity,
        message=rule_.message.format(**params),
        message_en=rule_.message_en.format(**params),
        location=location or (placed.location if placed else None),
        field=placed.key if placed else None,
        expected=expected,
        actual=actual,
        label=placed.label_path if placed else None,
        expected_text=expected_text,
        actual_text=actual_text,
    )


def _shown(value: Any, placed: PlacedField) -> str:
    """A finding's value as its cell shows it: 99.72%, 1,131.12 万元, or a formula's text."""
    spec = placed.spec
    if isinstance(value, str) or not isinstance(value, int | float):
        return str(value)
    if spec.value_type == "score":  # scores read as people say them: 5 分, 4.5 分
        return f"{excel_round(float(value), spec.decimals or 2):g} 分"
    return display(value, spec.value_type, spec.decimals, spec.unit, grouped=True)


Check = Callable[[RuleContext], Iterator[Finding]]
