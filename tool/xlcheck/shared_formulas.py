"""Excel's shared formulas expanded: a formula's relative references moved from one cell to another.

Excel and LibreOffice store a formula filled down or across once, in its first cell
(``<f t="shared" si="0" ref="B1:B3">A1*2</f>``); the other cells only name the group
(``<f t="shared" si="0"/>``) and mean the same formula moved by their distance from the first:
``A2*2``, ``A3*2``. ``shift_formula`` does that move as Excel does: relative rows and columns
move, ``$``-absolute ones stay, and text in quotes, sheet names, function names, defined names
and structured table references are left alone. A reference moved off the sheet becomes
``#REF!``, as Excel shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Excel's grid: columns A..XFD, rows 1..1,048,576.
MAX_COLUMN = 16_384
MAX_ROW = 1_048_576

_CELL = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]{1,7})")
_COLUMN = re.compile(r"(\$?)([A-Za-z]{1,3})")
_ROW = re.compile(r"(\$?)([0-9]{1,7})")
_ERRORS = (
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
)
#: Characters that continue an operand (a reference, a name, a number) once one has begun.
_OPERAND_EXTRA = "$.:!\\?#"


class _OffSheet(Exception):
    """A reference moved past the sheet's first or last row or column."""


def column_number(letters: str) -> int:
    """``"A"`` → 1, ``"XFD"`` → 16384."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    """1 → ``"A"``, 16384 → ``"XFD"``."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _move_column(absolute: str, letters: str, columns: int) -> str:
    if absolute:
        return absolute + letters
    moved = column_number(letters) + columns
    if not 1 <= moved <= MAX_COLUMN:
        raise _OffSheet
    text = column_letters(moved)
    return text if letters.isupper() else text.lower()


def _move_row(absolute: str, digits: str, rows: int) -> str:
    if absolute:
        return absolute + digits
    moved = int(digits) + rows
    if not 1 <= moved <= MAX_ROW:
        raise _OffSheet
    return str(moved)


def _is_cell(text: str) -> bool:
    match = _CELL.fullmatch(text)
    return (
        match is not None
        and column_number(match.group(2)) <= MAX_COLUMN
        and 1 <= int(match.group(4)) <= MAX_ROW
    )


def _is_column(text: str) -> bool:
    match = _COLUMN.fullmatch(text)
    return match is not None and column_number(match.group(2)) <= MAX_COLUMN


def _is_row(text: str) -> bool:
    match = _ROW.fullmatch(text)
    return match is not None and 1 <= int(match.group(2)) <= MAX_ROW


def _top_level(text: str, wanted: str) -> Iterator[int]:
    """The positions of ``wanted`` in ``text`` outside quotes and [brackets]."""
    depth, quoted = 0, False
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0 and char == wanted:
            yield index


def _split_sheet(piece: str) -> tuple[str, str]:
    """``"'My sheet'!A1"`` → (``"'My sheet'!"``, ``"A1"``); the qualifier may be empty."""
    cut = max(_top_level(piece, "!"), default=-1)
    return piece[: cut + 1], piece[cut + 1 :]


def _split_range(operand: str) -> list[str]:
    """An operand cut at each ``:`` that is outside quotes and brackets."""
    pieces, start = [], 0
    for index in _top_level(operand, ":"):
        pieces.append(operand[start:index])
        start = index + 1
    pieces.append(operand[start:])
    return pieces


def _move_whole_column(reference: str, columns: int) -> str:
    """One end of a whole-column range (``$A`` in ``$A:C``) moved."""
    absolute, letters = reference[:1] if reference.startswith("$") else "", reference.lstrip("$")
    return _move_column(absolute, letters, columns)


def _move_whole_row(reference: str, rows: int) -> str:
    """One end of a whole-row range (``3`` in ``3:$5``) moved."""
    absolute, digits = reference[:1] if reference.startswith("$") else "", reference.lstrip("$")
    return _move_row(absolute, digits, rows)


def _move_cell(reference: str, rows: int, columns: int) -> str:
    spill = reference.endswith("#")
    match = _CELL.fullmatch(reference.removesuffix("#"))
    assert match is not None
    column_absolute, letters, row_absolute, digits = match.groups()
    return (
        _move_column(column_absolute, letters, columns)
        + _move_row(row_absolute, digits, rows)
        + ("#" if spill else "")
    )


def _shift_operand(operand: str, rows: int, columns: int) -> str:
    """One operand (``A1``, ``Sheet1!$B2:C9``, ``A:C``, ``3:5``, a name...) moved, or as it was."""
    pieces = _split_range(operand)
    split = [_split_sheet(piece) for piece in pieces]
    bare = [reference for _, reference in split]
    try:
        if len(pieces) == 2 and all(_is_column(b) for b in bare):
            return ":".join(q + _move_whole_column(b, columns) for q, b in split)
        if len(pieces) == 2 and all(_is_row(b) for b in bare):
            return ":".join(q + _move_whole_row(b, rows) for q, b in split)
        out = []
        for piece, (qualifier, reference) in zip(pieces, split, strict=True):
            if _is_cell(reference.removesuffix("#")):
                out.append(qualifier + _move_cell(reference, rows, columns))
            else:
                out.append(piece)
        return ":".join(out)
    except _OffSheet:
        return split[0][0] + "#REF!"


def _end_of_string(formula: str, start: int, quote: str) -> int:
    """The index just past the quoted text that opens at ``start`` (doubled quotes inside)."""
    index = start + 1
    while index < len(formula):
        if formula[index] == quote:
            if index + 1 < len(formula) and formula[index + 1] == quote:
                index += 2
                continue
            return index + 1
        index += 1
    return len(formula)


def _end_of_operand(formula: str, start: int) -> int:
    """The index just past the operand that begins at ``start``: names, references, numbers,
    with quoted sheet names and bracketed parts (``[1]Sheet1!A1``, ``Table1[[#This Row],[A]]``)
    kept whole."""
    index, depth = start, 0
    while index < len(formula):
        char = formula[index]
        if char == "'" and depth == 0:
            index = _end_of_string(formula, index, "'")
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and not (char.isalnum() or char == "_" or char in _OPERAND_EXTRA):
            break
        index += 1
    return index


def shift_formula(formula: str, rows: int, columns: int) -> str:
    """``formula`` (without or with its leading ``=``) with every relative reference moved by
    ``rows`` and ``columns``: what a shared formula means in a cell that far from its master."""
    out: list[str] = []
    index = 0
    while index < len(formula):
        char = formula[index]
        if char == '"':
            end = _end_of_string(formula, index, '"')
            out.append(formula[index:end])
            index = end
            continue
        if char == "#":
            error = next((e for e in _ERRORS if formula[index : index + len(e)].upper() == e), None)
            if error is not None:
                out.append(formula[index : index + len(error)])
                index += len(error)
                continue
        if char.isalnum() or char in "_$'[\\":
            end = _end_of_operand(formula, index)
            operand = formula[index:end]
            pieces = _split_range(operand)
            if end < len(formula) and formula[end] == "(":
                # A function name, possibly after a range's colon (A1:INDEX(...)), never moves:
                # LOG10 or ATAN2 read like cells.
                before = ":".join(pieces[:-1])
                out.append(_shift_operand(before, rows, columns) + ":" if before else "")
                out.append(pieces[-1])
            elif char.isdigit() and len(pieces) == 1:
                out.append(operand)  # a number such as 12 or 1.5E (before +3)
            else:
                out.append(_shift_operand(operand, rows, columns))
            index = end
            continue
        out.append(char)
        index += 1
    return "".join(out)
