"""Put drawing objects into a workbook with real LibreOffice, through UNO, and save it as .xlsx.

Run by the SYSTEM python (Debian's python3-uno): ``/usr/bin/python3 tests/libreoffice_objects.py
IN.xlsx OUT.xlsx PICTURE.png``. It opens IN in a headless LibreOffice, adds to the first sheet a
chart, a picture (a stand-in for a scanned seal), a rectangle with text, a text box and a comment
(a "unit's own" note), adds a comment to the second sheet, and stores the result with the
"Calc MS Excel 2007 XML" filter: a package written by LibreOffice itself, not simulated.

The tests call ``add_objects`` (below the ``__main__`` guard it imports nothing from UNO), which
runs this file in a subprocess with a private LibreOffice profile. ``build_fixture`` makes the
committed ``tests/fixtures/libreoffice-objects.xlsx`` (see tests/fixtures/README.md):

    PYTHONPATH=tool python -c "from tests.libreoffice_objects import build_fixture; build_fixture()"
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
#: The comment the "unit" leaves on the first sheet; the annotated copy must keep it.
UNIT_COMMENT = "单位备注：数据已核对"
UNIT_COMMENT_CELL = "D5"
SECOND_SHEET_COMMENT = "Second sheet note"


def uno_available() -> bool:
    """Whether LibreOffice and the system python's UNO bridge are both installed."""
    if shutil.which("soffice") is None or not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, check=False, timeout=60
    )
    return probe.returncode == 0


def add_objects(source: Path, target: Path, picture: Path, *, timeout: float = 240) -> Path:
    """``source`` with a chart, picture, shape, text box and comments added by LibreOffice.

    Raises:
        RuntimeError: LibreOffice did not produce ``target``.
    """
    with tempfile.TemporaryDirectory(prefix="xlcheck-uno-") as scratch:
        env = {**os.environ, "HOME": scratch}
        env.pop("PYTHONPATH", None)
        done = subprocess.run(
            [SYSTEM_PYTHON, __file__, str(source), str(target), str(picture), scratch],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0 or not target.exists():
        raise RuntimeError(f"LibreOffice did not add the objects: {done.stdout} {done.stderr}")
    return target


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "libreoffice-objects.xlsx"


def build_fixture(target: Path = FIXTURE) -> Path:
    """The template filled with the seed's correct values (openpyxl), then the objects added and
    the workbook saved by LibreOffice."""
    from PIL import Image

    from tests.conftest import correct_seed_values, fill_cells
    from xlcheck import write_template

    with tempfile.TemporaryDirectory(prefix="xlcheck-fixture-") as scratch:
        filled = Path(scratch) / "filled.xlsx"
        write_template(filled, force=True)
        fill_cells(filled, correct_seed_values())
        seal = Path(scratch) / "seal.png"
        Image.new("RGB", (48, 48), (200, 0, 0)).save(seal)
        target.parent.mkdir(parents=True, exist_ok=True)
        return add_objects(filled, target, seal)


def _main(source: str, target: str, picture: str, scratch: str) -> None:  # pragma: no cover
    import uno
    from com.sun.star.awt import Point, Size
    from com.sun.star.beans import PropertyValue
    from com.sun.star.table import CellAddress, CellRangeAddress

    def prop(name: str, value: object) -> PropertyValue:
        item = PropertyValue()
        item.Name, item.Value = name, value
        return item

    pipe = f"xlcheck{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={Path(scratch, 'profile').as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ]
    )
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        for _ in range(120):
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise RuntimeError("LibreOffice did not start")
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        document = desktop.loadComponentFromURL(
            Path(source).resolve().as_uri(), "_blank", 0, (prop("Hidden", True),)
        )
        sheets = document.getSheets()
        first = sheets.getByIndex(0)
        page = first.getDrawPage()

        chart_range = CellRangeAddress()
        chart_range.Sheet, chart_range.StartColumn, chart_range.StartRow = 0, 0, 2
        chart_range.EndColumn, chart_range.EndRow = 1, 8
        rectangle = uno.createUnoStruct("com.sun.star.awt.Rectangle")
        rectangle.X, rectangle.Y, rectangle.Width, rectangle.Height = 20000, 1000, 9000, 6000
        first.getCharts().addNewByName("xlcheck-chart", rectangle, (chart_range,), True, False)

        image = document.createInstance("com.sun.star.drawing.GraphicObjectShape")
        provider = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.graphic.GraphicProvider", context
        )
        image.Graphic = provider.queryGraphic((prop("URL", Path(picture).resolve().as_uri()),))
        page.add(image)
        image.setPosition(Point(20000, 8000))
        image.setSize(Size(2500, 2500))

        shape = document.createInstance("com.sun.star.drawing.RectangleShape")
        page.add(shape)
        shape.setPosition(Point(20000, 11000))
        shape.setSize(Size(5000, 1500))
        shape.setString("已盖章")

        text_box = document.createInstance("com.sun.star.drawing.TextShape")
        page.add(text_box)
        text_box.setPosition(Point(26000, 11000))
        text_box.setSize(Size(5000, 1500))
        text_box.setString("文本框：请财政局审核")

        # The template protects its sheets, and LibreOffice ignores a note added to a protected
        # sheet: lift the protection (no password) for the notes, as a unit would, and restore it.
        address = CellAddress()
        address.Sheet, address.Column, address.Row = 0, 3, 4  # D5
        for index in range(min(2, sheets.getCount())):
            sheet = sheets.getByIndex(index)
            protected = sheet.isProtected()
            if protected:
                sheet.unprotect("")
            if index == 0:
                sheet.getAnnotations().insertNew(address, UNIT_COMMENT)
            else:
                second = CellAddress()
                second.Sheet, second.Column, second.Row = 1, 3, 1  # D2
                sheet.getAnnotations().insertNew(second, SECOND_SHEET_COMMENT)
            if protected:
                sheet.protect("")

        document.storeToURL(
            Path(target).resolve().as_uri(), (prop("FilterName", "Calc MS Excel 2007 XML"),)
        )
        document.close(True)
        with contextlib.suppress(Exception):  # the bridge drops as LibreOffice exits
            desktop.terminate()
    finally:
        try:
            office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":  # pragma: no cover
    _main(*sys.argv[1:5])
