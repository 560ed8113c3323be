"""Which cell styles show a number as a percentage, read from the workbook's styles part.

A unit may type 98.5% into a cell Excel then stores as 0.985 with a percent format; the value
means 98.5 only together with its format (an indicator's 实际完成值, say).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from xlcheck.package_xml import local_name, parse_part, styles_part

#: Built-in number formats that show percentages: 0% and 0.00%.
_PERCENT_FORMAT_IDS = frozenset({9, 10})
#: Quoted text, escaped characters and [colour]/[condition] sections carry no meaning as a %.
_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def _shows_percent(code: str) -> bool:
    return "%" in _LITERAL.sub("", code)


def percent_styles(path: Path, archive: zipfile.ZipFile, workbook_part: str) -> frozenset[int]:
    """The indices (a cell's ``s``) of the cell formats whose number format is a percentage."""
    names = {name.replace("\\", "/"): name for name in archive.namelist()}
    root = parse_part(path, archive, styles_part(path, archive, names, workbook_part))
    if root is None:
        return frozenset()
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
