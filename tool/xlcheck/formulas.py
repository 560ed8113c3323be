"""The Excel formula text of each derived field, written by the template and expected by verify."""

from __future__ import annotations

import functools

from xlcheck.findings import column_letters
from xlcheck.layout import Layout, PlacedField
from xlcheck.spec import Derivation, Grade, Operand


def _reference(target: PlacedField, home_sheet: str) -> str:
    cell = f"{column_letters(target.column_number)}{target.row_number}"
    if target.sheet == home_sheet:
        return cell
    return "'{}'!{}".format(target.sheet.replace("'", "''"), cell)


def _sum_terms(fields: list[PlacedField], layout: Layout, home_sheet: str) -> list[str]:
    """Operands as ranges where they stand in one unbroken column run, else single cells.

    Rows a unit inserted inside a run do not break it: Excel grows ``SUM(B5:B14)`` to
    ``SUM(B5:B15)`` when a row is inserted within the range.
    """
    terms: list[str] = []
    run: list[PlacedField] = []

    def flush() -> None:
        if not run:
            return
        if len(run) == 1:
            terms.append(_reference(run[0], home_sheet))
        else:
            start, end = _reference(run[0], home_sheet), _reference(run[-1], home_sheet)
            terms.append(f"{start}:{end.split('!')[-1]}")
        run.clear()

    for placed in fields:
        if run and (
            placed.sheet != run[-1].sheet
            or placed.column_number != run[-1].column_number
            or not _adjacent(run[-1].row_number, placed.row_number, layout, placed.sheet)
        ):
            flush()
        run.append(placed)
    flush()
    return terms


def _adjacent(row_number: int, next_row_number: int, layout: Layout, sheet: str) -> bool:
    """Whether only rows the unit inserted stand between two rows."""
    if next_row_number == row_number + 1:
        return True
    if next_row_number <= row_number:
        return False
    inserted = layout.by_sheet[sheet].inserted_rows
    return all(r in inserted for r in range(row_number + 1, next_row_number))


def grade_formula(total_ref: str, grades: tuple[Grade, ...]) -> str:
    """Nested IFs from the best grade down; blank while the total is 0 (nothing scored yet)."""
    expression = f'"{grades[-1].name}"' if grades else '""'
    for grade in reversed(grades[:-1]):
        expression = f'IF({total_ref}>={grade.minimum:g},"{grade.name}",{expression})'
    return f'IF({total_ref}=0,"",{expression})'


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def _expression(
    derive: Derivation, placed: PlacedField, layout: Layout, grades: tuple[Grade, ...]
) -> str:
    """The formula text of a derivation (without ``=``); nested derivations in parentheses."""

    def operand(value: Operand) -> str:
        if isinstance(value, str):
            return _reference(layout.by_key[value], placed.sheet)
        if isinstance(value, Derivation):
            inner = _expression(value, placed, layout, grades)
            return inner if value.verb in ("min", "max", "round", "sum", "ratio") else f"({inner})"
        return _number(value)

    if derive.verb == "sum":
        if all(isinstance(o, str) for o in derive.operands):
            fields = [layout.by_key[str(o)] for o in derive.operands]
            return "SUM({})".format(",".join(_sum_terms(fields, layout, placed.sheet)))
        return "SUM({})".format(",".join(operand(o) for o in derive.operands))
    parts = [operand(o) for o in derive.operands]
    if derive.verb == "difference":
        return f"{parts[0]}-{parts[1]}"
    if derive.verb == "product":
        return "*".join(parts)
    if derive.verb == "ratio":
        denominator = parts[1]
        return f'IF(N({denominator})=0,"",{parts[0]}/{denominator})'
    if derive.verb in ("min", "max"):
        # MIN and MAX skip text and blanks in referenced cells (an empty ratio's "" would make
        # MIN(rate,1) give 1): N() counts them as 0, as SUM does and recompute does.
        counted = [
            part if isinstance(o, float) else f"N({part})"
            for o, part in zip(derive.operands, parts, strict=True)
        ]
        return f"{derive.verb.upper()}({','.join(counted)})"
    if derive.verb == "round":
        return f"ROUND({parts[0]},{derive.decimals})"
    if derive.verb == "grade":
        return grade_formula(parts[0], grades)
    raise AssertionError(f"unknown derivation {derive.verb}")


def excel_formula(
    placed: PlacedField, layout: Layout, grades: tuple[Grade, ...] = ()
) -> str | None:
    """The formula (with its leading ``=``) the template writes into a derived cell.

    Returns None for constants, which are written as plain values.
    """
    derive = placed.spec.derive
    if derive is None or derive.verb == "constant":
        return None
    return "=" + _expression(derive, placed, layout, grades)


@functools.lru_cache(maxsize=16)
def template_formulas(layout: Layout) -> dict[str, str]:
    """Field key → the formula text the template writes, for every formula cell of ``layout``."""
    grades = layout.spec.grading.grades
    formulas = {f.key: excel_formula(f, layout, grades) for f in layout.fields if not f.is_input}
    return {key: text for key, text in formulas.items() if text is not None}
