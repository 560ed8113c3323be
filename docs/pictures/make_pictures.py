"""Regenerate the pictures the READMEs show: what users get, as LibreOffice prints it.

* ``template-score-sheet.png`` — the shipped example's 评分表 (unit and year in the title, the score
  above its weight and the total above 100 marked red, the sign-off lines);
* ``template-self-check.png`` — its 自查 sheet after LibreOffice recalculated it;
* ``annotated-results.png`` — the first page of the annotated copy's 校验结果 sheet;
* ``summary.png`` — the first page of the 汇总表 ``xlcheck verify … --summary`` writes for the two
  shipped examples.

Needs LibreOffice (``soffice``), poppler-utils (``pdftoppm``, ``pdftotext``) and Pillow (in the
``test`` extra). Run from the repository root after ``python examples/build_example.py`` and
``python examples/build_national_example.py``::

    python docs/pictures/make_pictures.py
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXAMPLES = ROOT / "examples"
#: Rendering resolution, and the most a picture may weigh.
DPI = 110
MAX_BYTES = 100_000


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def _page_number(pdf: Path, wanted: Callable[[str], bool]) -> int:
    """The first page (1-based) whose text ``wanted`` accepts."""
    for number, text in enumerate(_page_texts(pdf), 1):
        if wanted("".join(text.split())):
            return number
    raise SystemExit(f"no page of {pdf.name} shows what the picture needs")


def _render(pdf: Path, page: int, dpi: int) -> Image.Image:
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), str(pdf)],
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def _ink_rows(image: Image.Image) -> list[bool]:
    """For each pixel row: whether anything is printed on it."""
    gray = image.convert("L")
    width = gray.width
    pixels = gray.tobytes()
    return [min(pixels[y * width : (y + 1) * width]) < 200 for y in range(gray.height)]


def _trimmed(image: Image.Image, height_share: float) -> Image.Image:
    """The page without its white margins and its footer (第 N 页，共 M 页, the last line, apart
    from the rest), cut to the top ``height_share`` of the content: the interesting part."""
    rows = _ink_rows(image)
    inked = [y for y, ink in enumerate(rows) if ink]
    if not inked:
        return image
    top, bottom = inked[0], inked[-1]
    footer_top = bottom
    while footer_top > top and rows[footer_top - 1]:
        footer_top -= 1
    gap_end = footer_top
    while gap_end > top and not rows[gap_end - 1]:
        gap_end -= 1
    if footer_top - gap_end >= 20 and bottom - footer_top < 30:
        bottom = gap_end
    box = ImageChops.difference(image, Image.new("RGB", image.size, (255, 255, 255))).getbbox()
    left, right = (box[0], box[2]) if box else (0, image.width)
    height = int((bottom - top) * height_share)
    return image.crop((max(left - 8, 0), max(top - 8, 0), right + 8, top + height + 8))


def _save(image: Image.Image, target: Path) -> int:
    """Save as a paletted PNG under ``MAX_BYTES``, scaling down if it must."""
    scale = 1.0
    while True:
        sized = (
            image
            if scale == 1.0
            else image.resize(
                (int(image.width * scale), int(image.height * scale)), Image.Resampling.LANCZOS
            )
        )
        buffer = io.BytesIO()
        sized.quantize(colors=48, method=Image.Quantize.MEDIANCUT).save(
            buffer, format="PNG", optimize=True
        )
        if buffer.tell() <= MAX_BYTES or scale < 0.5:
            target.write_bytes(buffer.getvalue())
            return buffer.tell()
        scale *= 0.9


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.libreoffice import recalculate_many, soffice

    if soffice() is None:
        raise SystemExit("LibreOffice (soffice) is needed to render the pictures")
    workbook = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"
    annotated = EXAMPLES / "zhanjiang-xinfang-2023.checked.xlsx"
    with tempfile.TemporaryDirectory(prefix="xlcheck-pictures-") as scratch:
        folder = Path(scratch)
        summary = folder / "summary.xlsx"
        # As a user makes it (exit code 1: the examples have errors).
        # Paths as a user in the repository types them (the 汇总表 prints them).
        inputs = ["examples/zhanjiang-xinfang-2023.xlsx", "examples/national-project-2022.xlsx"]
        command = [sys.executable, "-m", "xlcheck", "verify", *inputs]
        options = ["--no-annotate", "-j", "1", "--summary", str(summary), "--format", "json"]
        subprocess.run(
            [*command, *options],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        if not summary.exists():
            raise SystemExit("xlcheck verify --summary wrote no 汇总表")
        sources = {"workbook": workbook, "annotated": annotated, "summary": summary}
        pdfs = recalculate_many(
            {path: folder / f"{name}.pdf" for name, path in sources.items()}, convert_to="pdf"
        )
        workbook_pdf, annotated_pdf, summary_pdf = (pdfs[sources[n]] for n in sources)
        pictures = {
            "template-score-sheet.png": (
                workbook_pdf,
                _page_number(workbook_pdf, lambda t: "评分标准" in t),
                1.0,
            ),
            "template-self-check.png": (
                workbook_pdf,
                _page_number(workbook_pdf, lambda t: "检查内容" in t),
                1.0,
            ),
            "annotated-results.png": (annotated_pdf, 1, 1.0),
            "summary.png": (summary_pdf, 1, 1.0),
        }
        for name, (pdf, page, share) in pictures.items():
            size = _save(_trimmed(_render(pdf, page, DPI), share), HERE / name)
            print(f"{name}: page {page} of {pdf.name}, {size // 1000} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
