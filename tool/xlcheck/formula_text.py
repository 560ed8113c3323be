"""Formula text compared as Excel means it, whichever app saved it."""

from __future__ import annotations

import functools
import re

_STRING = re.compile(r'"[^"]*"')
_QUOTED_SHEET = re.compile(r"'((?:[^']|'')+)'!")
_ABSOLUTE = re.compile(r"\$(?=[A-Z0-9])")


@functools.lru_cache(maxsize=4096)
def normalise_formula(formula: str) -> str:
    """Formula text with the differences spreadsheet apps introduce removed.

    LibreOffice drops quotes around Chinese sheet names, Excel and WPS may add ``$``, and any of
    them may change spacing or letter case outside string literals.
    """
    text = formula.strip().lstrip("=").lstrip("+")
    pieces: list[str] = []
    position = 0
    for match in _STRING.finditer(text):
        pieces.append(_normalise_code(text[position : match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_normalise_code(text[position:]))
    return "".join(pieces)


def _normalise_code(code: str) -> str:
    code = _QUOTED_SHEET.sub(lambda m: m.group(1).replace("''", "'") + "!", code)
    code = _ABSOLUTE.sub("", code)
    return re.sub(r"\s+", "", code).upper()
