"""Round trips through a real, headless LibreOffice that recalculates every formula on load."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

# LibreOffice keeps cached results of .xlsx formulas unless told to recalculate on load
# (OOXMLRecalcMode 0 = always); a fresh profile with this setting makes every round trip real.
_PROFILE_SETTINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
    ' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
    "</oor:items>\n"
)


def soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(folder: Path) -> Path:
    """A LibreOffice user profile that recalculates .xlsx formulas on load."""
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS, encoding="utf-8")
    return folder


def recalculate(
    source: Path, target: Path, *, profile: Path | None = None, timeout: float = 180
) -> Path:
    """Open ``source`` in LibreOffice, recalculate, save as .xlsx at ``target``.

    Raises:
        RuntimeError: LibreOffice is missing or did not produce the file.
    """
    return recalculate_many({source: target}, profile=profile, timeout=timeout)[source]


#: LibreOffice's export filters: .xlsx, and the legacy binary .xls of Excel 97–2003.
XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
XLS_FILTER = "xls:MS Excel 97"


def recalculate_many(
    jobs: Mapping[Path, Path],
    *,
    profile: Path | None = None,
    timeout: float = 180,
    convert_to: str = XLSX_FILTER,
) -> dict[Path, Path]:
    """``recalculate`` for several workbooks (source → target) in ONE LibreOffice start.

    ``convert_to`` picks the saved format (``XLS_FILTER`` for a legacy .xls).

    Starting LibreOffice costs about two seconds; ``--convert-to`` takes many input files, so a
    test module converts all of its workbooks at once.

    Returns:
        source → target, for every job.

    Raises:
        RuntimeError: LibreOffice is missing or did not produce one of the files.
    """
    executable = soffice()
    if executable is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    if not jobs:
        return {}
    with tempfile.TemporaryDirectory(prefix="xlcheck-lo-") as scratch:
        scratch_path = Path(scratch)
        profile = profile or make_profile(scratch_path / "profile")
        # LibreOffice names its output after the input, so work on copies with plain, distinct
        # names (source files in different folders may share a name; Chinese names stay out).
        staged: dict[Path, Path] = {}
        (scratch_path / "in").mkdir()
        for number, source in enumerate(jobs):
            staged[source] = scratch_path / "in" / f"workbook{number}.xlsx"
            shutil.copyfile(source, staged[source])
        out_dir = scratch_path / "out"
        command = [
            executable,
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--convert-to",
            convert_to,
            "--outdir",
            str(out_dir),
            *(str(path) for path in staged.values()),
        ]
        env = {**os.environ, "HOME": str(scratch_path)}
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
        for source, target in jobs.items():
            produced = out_dir / f"{staged[source].stem}.{convert_to.split(':')[0]}"
            if not produced.exists():
                raise RuntimeError(
                    f"LibreOffice did not convert {source}: {completed.stdout} {completed.stderr}"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(produced), target)
    return dict(jobs)


def pdftotext() -> str:
    """The pdftotext executable; CI must have it (``.ci/run`` installs poppler-utils), elsewhere
    the test is skipped."""
    import pytest

    executable = shutil.which("pdftotext")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have pdftotext: .ci/run installs poppler-utils")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return executable


def pdf_pages(pdf: Path, *, layout: bool = True) -> list[str]:
    """The text of each page of ``pdf``, laid out as printed (or in reading order)."""
    mode = "-layout" if layout else "-raw"
    text = subprocess.run(
        [pdftotext(), mode, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def printed_text(document: Path, folder: Path) -> str:
    """``document`` (a .docx or a workbook) printed to PDF by LibreOffice in ``folder``, as text."""
    office = soffice()
    assert office is not None, "LibreOffice is needed to print"
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{folder}/profile",
         "--convert-to", "pdf", "--outdir", str(folder), str(document)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = folder / (document.stem + ".pdf")
    assert pdf.exists(), f"LibreOffice did not convert {document.name}"
    return "\f".join(pdf_pages(pdf))
