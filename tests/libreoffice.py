"""Round trips through a real, headless LibreOffice that recalculates every formula on load."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# LibreOffice keeps cached results of .xlsx formulas unless told to recalculate on load
# (OOXMLRecalcMode 0 = always); a fresh profile with this setting makes every round trip real.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(folder: Path) -> Path:
    """A LibreOffice user profile that recalculates .xlsx formulas on load."""
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS, encoding="utf-8")
    return folder


def recalculate(source: Path, target: Path, *, profile: Path | None = None, timeout: float = 180) -> Path:
    """Open ``source`` in LibreOffice, recalculate, save as .xlsx at ``target``.

    Raises:
        RuntimeError: LibreOffice is missing or did not produce the file.
    """
    executable = soffice()
    if executable is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="xlcheck-lo-") as scratch:
        scratch_path = Path(scratch)
        profile = profile or make_profile(scratch_path / "profile")
        # LibreOffice names its output after the input, so work on a copy with a plain name.
        staged = scratch_path / "in" / "workbook.xlsx"
        staged.parent.mkdir()
        shutil.copyfile(source, staged)
        out_dir = scratch_path / "out"
        command = [
            executable, "--headless", "--norestore", "--nolockcheck", "--nodefault",
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir), str(staged),
        ]
        env = {**os.environ, "HOME": str(scratch_path)}
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
        produced = out_dir / "workbook.xlsx"
        if not produced.exists():
            raise RuntimeError(f"LibreOffice did not convert {source}: {completed.stdout} {completed.stderr}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(produced), target)
    return target
