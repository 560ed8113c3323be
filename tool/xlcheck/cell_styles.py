"""Which cell styles show a number as a percentage, read from the workbook's styles part.

A unit may type 98.5% into a cell Excel then stores as 0.985 with a percent format; the value
means 98.5 only together with its format (an indicator's 实际完成值, say).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar
from xml.etree.ElementTree import Element

from xlcheck.inflated_parts import InflatedParts
from xlcheck.package_xml import local_name, parse_xml, read_part
from xlcheck.part_memo import PartMemo

#: Built-in number formats that show percentages: 0% and 0.00%.
_PERCENT_FORMAT_IDS = frozenset({9, 10})
#: Quoted text, escaped characters and [colour]/[condition] sections carry no meaning as a %.
_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def _shows_percent(code: str) -> bool:
    return "%" in _LITERAL.sub("", code)


_Read = TypeVar("_Read")


def styles_memo() -> PartMemo[bytes, _Read]:
    """A memory of what was read from styles parts, by their bytes: a few entries (a batch mixes
    a few templates and app versions), of parts no larger than a template's few KB times a
    hundred."""
    return PartMemo(limit=8, largest=1 << 18)


_PERCENT_STYLES: PartMemo[bytes, frozenset[int]] = styles_memo()


def percent_styles(path: Path, parts: InflatedParts, part: str | None) -> frozenset[int]:
    """The indices (a cell's ``s``) of the cell formats whose number format is a percentage, in
    the styles part ``part`` (None: the package has none).

    Raises:
        WorkbookError: the part is damaged, or declares a DTD or entities.
    """
    data = read_part(path, parts, part)
    if data is None or part is None:
        return frozenset()
    found = _PERCENT_STYLES.get(data)
    if found is None:
        found = _percent_styles(parse_xml(path, part, data))
        _PERCENT_STYLES.keep(data, found, len(data))
    return found


def _percent_styles(root: Element) -> frozenset[int]:
    custom = {
        int(element.get("numFmtId", "-1")): element.get("formatCode", "")
        for element in root.iter()
        if local_name(element.tag) == "numFmt" and element.get("numFmtId", "").isdigit()
    }
    found: set[int] = set()
    for container in root.iter():
        if local_name(container.tag) != "cellXfs":
            continue
        for index, xf in enumerate(e for e in container if local_name(e.tag) == "xf"):
            number_format = xf.get("numFmtId", "0")
            if not number_format.isdigit():
                continue
            identity = int(number_format)
            if identity in _PERCENT_FORMAT_IDS or _shows_percent(custom.get(identity, "")):
                found.add(index)
    return frozenset(found)
