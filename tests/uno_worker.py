"""Run by the SYSTEM python3 (Debian's python3-uno), never by pytest: edit workbooks in LibreOffice.

``/usr/bin/python3 tests/uno_worker.py JOBS.json`` starts one headless soffice with the profile
and pipe named in the file, applies each job's operations through the UNO sheet API and stores
the result; ``tests/libreoffice_uno.py`` writes the file and documents the operations. The
dispatcher (``.uno:EnterString`` and friends) is not used: it crashes LibreOffice 7.4 headless.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.lang import DisposedException
from com.sun.star.uno import RuntimeException

#: Filter names for storeToURL, by the target's suffix.
FILTERS = {
    ".xlsx": "Calc MS Excel 2007 XML",
    ".xls": "MS Excel 97",
    ".ods": "calc8",
}


def _properties(**values: Any) -> tuple[Any, ...]:
    properties = []
    for name, value in values.items():
        item = PropertyValue()
        item.Name, item.Value = name, value
        properties.append(item)
    return tuple(properties)


def _connect(pipe: str, soffice: subprocess.Popen[bytes], timeout: float) -> Any:
    context = uno.getComponentContext()
    resolver = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", context
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            remote = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return remote.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", remote
            )
        except NoConnectException:
            if soffice.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"soffice did not accept a connection on pipe {pipe}") from None
            time.sleep(0.2)


def _sheet(document: Any, name: str) -> Any:
    sheets = document.getSheets()
    if not sheets.hasByName(name):
        raise KeyError(f"no sheet named {name!r}: {list(sheets.getElementNames())}")
    return sheets.getByName(name)


def _apply(document: Any, operation: dict[str, Any]) -> None:
    kind = operation["op"]
    sheet = _sheet(document, operation["sheet"])
    if kind in ("set_string", "set_value", "set_formula"):
        cell = sheet.getCellRangeByName(operation["cell"])
        if kind == "set_string":
            cell.setString(operation["value"])
        elif kind == "set_value":
            cell.setValue(float(operation["value"]))
        else:
            cell.setFormula(operation["value"])
    elif kind == "insert_rows":
        sheet.getRows().insertByIndex(operation["row_number"] - 1, operation["count"])
    elif kind == "delete_rows":
        sheet.getRows().removeByIndex(operation["row_number"] - 1, operation["count"])
    elif kind == "rename_sheet":
        sheet.setName(operation["name"])
    elif kind == "unprotect_sheet":
        sheet.unprotect(operation["password"])
    else:
        raise ValueError(f"unknown operation {kind!r}")


def _run_job(desktop: Any, job: dict[str, Any]) -> None:
    source = Path(job["source"]).resolve()
    target = Path(job["target"]).resolve()
    document = desktop.loadComponentFromURL(source.as_uri(), "_blank", 0, _properties(Hidden=True))
    if document is None:
        raise RuntimeError(f"LibreOffice could not open {source}")
    try:
        for operation in job["operations"]:
            _apply(document, operation)
        document.calculateAll()
        target.parent.mkdir(parents=True, exist_ok=True)
        document.storeToURL(
            target.as_uri(), _properties(FilterName=FILTERS[target.suffix.lower()], Overwrite=True)
        )
    finally:
        document.close(True)


def main(jobs_file: str) -> int:
    request = json.loads(Path(jobs_file).read_text(encoding="utf-8"))
    soffice = subprocess.Popen(
        [
            request["soffice"],
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={request['profile']}",
            f"--accept=pipe,name={request['pipe']};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # The harness kills soffice by this id if the worker itself runs out of time.
    Path(request["pid_file"]).write_text(str(soffice.pid), encoding="ascii")
    try:
        desktop = _connect(request["pipe"], soffice, request.get("start_timeout", 60))
        for job in request["jobs"]:
            _run_job(desktop, job)
        # The bridge drops as soffice exits: nothing is left to do then.
        with contextlib.suppress(DisposedException, RuntimeException):
            desktop.terminate()
        soffice.wait(timeout=30)
    finally:
        if soffice.poll() is None:
            os.killpg(soffice.pid, signal.SIGKILL)
            soffice.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
