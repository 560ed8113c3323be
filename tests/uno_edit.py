"""Edit a workbook in a real LibreOffice through UNO, as a unit would, and save it as .xlsx.

Run by the system Python, which has LibreOffice's ``uno`` module (``tests.libreoffice.edit``
starts it):

    python3 uno_edit.py SOURCE.xlsx TARGET.xlsx PROFILE_URL EDITS_JSON

``EDITS_JSON`` is a list of ``{"action": "insert_rows", "sheet": …, "row": 14, "count": 2}`` (rows
inserted before row 14, as Insert Rows Above does) and ``{"action": "set", "sheet": …, "cells":
{"D14": "text", "G14": 4}}``, done in order; then LibreOffice recalculates and saves.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from typing import Any

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.lang import DisposedException


def _property(name: str, value: Any) -> Any:
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _connect(pipe: str) -> Any:
    context = uno.getComponentContext()
    resolver = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", context
    )
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    for _ in range(300):
        try:
            return resolver.resolve(url)
        except NoConnectException:  # until LibreOffice listens on the pipe
            time.sleep(0.2)
    raise RuntimeError("LibreOffice did not open its UNO pipe")


def main(source: str, target: str, profile: str, edits_json: str) -> int:
    pipe = f"xlcheck{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={profile}",
            f"--accept=pipe,name={pipe};urp;",
        ]
    )
    try:
        remote = _connect(pipe)
        desktop = remote.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", remote
        )
        document = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(source), "_blank", 0, (_property("Hidden", True),)
        )
        for edit in json.loads(edits_json):
            sheet = document.Sheets.getByName(edit["sheet"])
            if edit["action"] == "insert_rows":
                sheet.Rows.insertByIndex(edit["row"] - 1, edit["count"])
            else:
                for address, value in edit["cells"].items():
                    cell = sheet.getCellRangeByName(address)
                    if isinstance(value, str):
                        cell.setString(value)
                    else:
                        cell.setValue(value)
        document.calculateAll()
        document.storeToURL(
            uno.systemPathToFileUrl(target),
            (_property("FilterName", "Calc MS Excel 2007 XML"),),
        )
        document.close(True)
        with contextlib.suppress(DisposedException):  # the bridge closes as LibreOffice quits
            desktop.terminate()
    finally:
        try:
            office.wait(timeout=60)
        except subprocess.TimeoutExpired:
            office.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
